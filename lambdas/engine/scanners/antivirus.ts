// Antivirus: hands the raw message and every file extracted from it to the injected engine (clamd)
// and names what it finds: file as the sender named it, path inside archives, sha256, signature.
// It does not extract files or judge types (the attachment scanner does) and does no I/O itself.

import { createHash } from 'node:crypto';
import type { AntivirusEngine } from '../../ports/index.ts';
import { extractionOf } from '../attachments/extraction-of.ts';
import type { Scanner } from '../scanner.ts';
import type { Finding } from '../types.ts';

/** Scans in flight at once: clamd runs a few threads (MaxThreads 4 in our config). */
const CONCURRENCY = 4;
/** Evidence names at most this many characters of a sender-chosen file name. */
const MAX_NAME_CHARS = 120;

/** One thing to scan: the whole message or one extracted file. */
export interface AvTarget {
  /** The file name as the sender gave it, or `(message)`. */
  readonly name: string;
  /** Path inside archives, e.g. `invoice.zip/docs/run.exe`; empty for a top-level file. */
  readonly path: string;
  readonly bytes: Uint8Array;
  readonly sha256?: string;
}

export const antivirus: Scanner = {
  name: 'antivirus',
  family: 'AV',
  reads: 'raw',
  async scan({ raw }, ctx) {
    // No engine means this runtime chose to scan without antivirus; the gateway always injects one.
    if (!ctx.antivirus) return [];
    // clamd decodes well-formed MIME itself; the extraction also finds what broken MIME hides from it.
    // It is the attachment scanners' own (config limits, extracted once per message).
    const { files } = await extractionOf({ raw }, ctx);
    const targets: AvTarget[] = [
      { name: '(message)', path: '', bytes: raw },
      ...files.map((f) => ({
        name: f.name || '(unnamed)',
        path: [...f.path, f.name].join('/'),
        bytes: f.bytes,
        sha256: f.sha256,
      })),
    ];
    return scanTargets(ctx.antivirus, targets, ctx.signal);
  },
};

/**
 * Scans `targets` (the message first, then its files) and returns one finding per infected, unscanned
 * or failed target. The message itself is reported only when no file explains its infection.
 */
export async function scanTargets(
  engine: AntivirusEngine,
  targets: readonly AvTarget[],
  signal?: AbortSignal,
): Promise<Finding[]> {
  const outcomes: (Finding | undefined)[] = new Array(targets.length);
  let next = 0;
  const worker = async () => {
    while (next < targets.length && !signal?.aborted) {
      const i = next++;
      outcomes[i] = await scanOne(engine, targets[i]!, signal);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, targets.length) }, worker));
  const [message, ...files] = outcomes;
  const fileInfected = files.some((f) => f?.symbol === 'AV_INFECTED');
  return [
    ...(message && !(message.symbol === 'AV_INFECTED' && fileInfected) ? [message] : []),
    ...files.filter((f): f is Finding => f !== undefined),
  ];
}

async function scanOne(
  engine: AntivirusEngine,
  target: AvTarget,
  signal?: AbortSignal,
): Promise<Finding | undefined> {
  const sha256 = target.sha256 ?? createHash('sha256').update(target.bytes).digest('hex');
  const where = describe(target, sha256);
  if (target.bytes.length > engine.maxBytes) {
    return {
      symbol: 'AV_SKIPPED_OVERSIZE',
      evidence: `${where}: ${target.bytes.length} bytes > ${engine.maxBytes}`,
    };
  }
  try {
    const verdict = await engine.scan(target.bytes, target.name, signal);
    if (!verdict.infected) return undefined;
    return { symbol: 'AV_INFECTED', evidence: `${verdict.signature ?? 'malware'} in ${where}` };
  } catch (error) {
    return { symbol: 'AV_ERROR', evidence: `${where}: ${(error as Error).message}`.slice(0, 300) };
  }
}

function describe(target: AvTarget, sha256: string): string {
  const name = JSON.stringify(target.name.slice(0, MAX_NAME_CHARS));
  const path =
    target.path && target.path !== target.name ? ` at ${target.path.slice(0, MAX_NAME_CHARS)}` : '';
  return `${name}${path} (sha256 ${sha256})`;
}
