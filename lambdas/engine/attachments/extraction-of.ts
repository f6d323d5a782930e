// One extraction per message per process: every attachment scanner (and antivirus, in `seg scan`)
// asks for the same files, so the first call extracts and the others share its promise.

import type { ScanContext } from '../scanner.ts';
import type { FileRef, ScanInput } from '../types.ts';
import { type ExtractedFile, type Extraction, extractFiles } from './extract.ts';

const cache = new WeakMap<Uint8Array, Promise<Extraction>>();

/** The files `input` carries, extracted once within the context's limits. */
export function extractionOf(
  input: Pick<ScanInput, 'raw'>,
  ctx: Pick<ScanContext, 'attachments' | 'limits'>,
): Promise<Extraction> {
  let pending = cache.get(input.raw);
  if (!pending) {
    pending = extractFiles(input.raw, ctx.attachments.limits, ctx.limits);
    cache.set(input.raw, pending);
  }
  return pending;
}

/** The structured reference a finding carries. */
export function fileRef(f: Pick<ExtractedFile, 'name' | 'detected' | 'sha256' | 'path'>): FileRef {
  return { name: f.name, type: f.detected?.ext ?? 'unknown', sha256: f.sha256, path: f.path };
}

/** `"invoice.pdf.exe" (exe, sha256 1a2b3c4d5e6f) in a.zip > b.zip`, for evidence. */
export function describeFile(f: FileRef, note = ''): string {
  const where = f.path.length ? ` in ${f.path.join(' > ')}` : '';
  const hash = f.sha256 ? `, sha256 ${f.sha256.slice(0, 12)}` : '';
  return `"${f.name || '(unnamed)'}" (${f.type}${hash}${note ? `, ${note}` : ''})${where}`.slice(0, 300);
}
