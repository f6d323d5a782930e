// What `seg scan` and `seg eval` share: the config they scan with, the files under a path, and reading one
// message file into a verdict. It reads files only; it prints nothing but a bad config's problems.

import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EMBEDDED_DEFAULT_CONFIG, loadConfig, parseConfig } from '../../lambdas/config/load-config.ts';
import type { SegConfig } from '../../lambdas/config/schema.ts';
import { scanMessage } from '../../lambdas/engine/scan-message.ts';
import type { Verdict } from '../../lambdas/engine/types.ts';
import type { DnsResolver } from '../../lambdas/ports/index.ts';

/**
 * The config file given, or the embedded defaults (not ./seg.config.json: a corpus scan should not
 * depend on the folder it is run from). A bad config prints every problem on stderr and gives undefined,
 * so the command can exit 1 without a stack trace.
 */
export function loadCorpusConfig(path: string | undefined): SegConfig | undefined {
  try {
    return path ? loadConfig(path) : parseConfig(EMBEDDED_DEFAULT_CONFIG, 'embedded defaults');
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return undefined;
  }
}

/** Every regular file under `path` (itself if a file), sorted, following symlinks once per folder. */
export async function listFiles(path: string, seen = new Set<string>()): Promise<string[]> {
  const info = await stat(path);
  if (!info.isDirectory()) return [path];
  const real = await realpath(path);
  if (seen.has(real)) return [];
  seen.add(real);
  const names = (await readdir(path)).sort();
  const out: string[] = [];
  for (const name of names) {
    try {
      out.push(...(await listFiles(join(path, name), seen)));
    } catch {
      // A dangling symlink or a file removed meanwhile: nothing to scan there.
    }
  }
  return out;
}

/**
 * Reads a message file. Drops a leading mbox "From " separator line (the SpamAssassin corpus keeps
 * one), which is not a header and would otherwise end the header block for the parser.
 */
export async function readMessageFile(path: string): Promise<Uint8Array> {
  const buf = await readFile(path);
  if (buf.subarray(0, 5).toString('latin1') === 'From ') {
    const nl = buf.indexOf(10);
    return nl < 0 ? new Uint8Array(0) : buf.subarray(nl + 1);
  }
  return buf;
}

/** Scans one file; an unreadable file is scanned as an empty message, so it still gets a verdict. */
export async function scanFile(
  file: string,
  config: SegConfig,
  resolver: DnsResolver,
): Promise<{ verdict: Verdict; readError?: string }> {
  let raw: Uint8Array;
  let readError: string | undefined;
  try {
    raw = await readMessageFile(file);
  } catch (err) {
    raw = new Uint8Array(0);
    readError = (err as Error).message;
  }
  const { verdict } = await scanMessage(raw, { config, resolver });
  return readError ? { verdict, readError } : { verdict };
}
