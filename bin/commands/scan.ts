// `seg scan FILE|DIR...`: runs the engine directly on stored messages and prints one verdict per
// message (a line, or a JSON object with --json). No servers, no AWS; DNS offline unless asked.
// It changes nothing: it only reads files.

import { promises as dns } from 'node:dns';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EMBEDDED_DEFAULT_CONFIG, loadConfig, parseConfig } from '../../lambdas/config/load-config.ts';
import type { SegConfig } from '../../lambdas/config/schema.ts';
import { offlineResolver, scanMessage } from '../../lambdas/engine/scan-message.ts';
import type { Verdict } from '../../lambdas/engine/types.ts';
import type { DnsResolver } from '../../lambdas/ports/index.ts';

/** The config file given, or the embedded defaults. Throws ConfigError listing every problem. */
export function configFor(path: string | undefined): SegConfig {
  return path ? loadConfig(path) : parseConfig(EMBEDDED_DEFAULT_CONFIG, 'embedded defaults');
}

/**
 * The resolver for a --dns mode. Offline is the default: a scan of archived mail on a laptop should
 * give the same verdict every time and not sit waiting on DNS timeouts for domains long gone.
 */
export function resolverFor(mode: 'system' | 'offline' | undefined): DnsResolver {
  return mode === 'system' ? (name, rrtype) => dns.resolve(name, rrtype) : offlineResolver;
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

/** Prints a verdict per message under `paths`. Returns the exit code: 0, or 1 for a bad path or config. */
export async function scanCommand(
  paths: string[],
  opts: { json?: boolean; config?: string; dns?: 'system' | 'offline' },
): Promise<number> {
  let config: SegConfig;
  try {
    config = configFor(opts.config);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 1;
  }
  const resolver = resolverFor(opts.dns);
  let code = 0;
  for (const path of paths) {
    let files: string[];
    try {
      files = await listFiles(path);
    } catch (err) {
      process.stderr.write(`seg scan: ${path}: ${(err as Error).message}\n`);
      code = 1;
      continue;
    }
    for (const file of files) {
      const { verdict, readError } = await scanFile(file, config, resolver);
      if (readError) process.stderr.write(`seg scan: ${file}: ${readError}\n`);
      const line = opts.json
        ? JSON.stringify({
            file,
            action: verdict.action,
            score: verdict.score,
            symbols: verdict.symbols,
            reason: verdict.reason,
          })
        : `${file}\t${verdict.action}\t${verdict.score}\t${verdict.symbols.join(' ')}`;
      process.stdout.write(`${line}\n`);
    }
  }
  return code;
}
