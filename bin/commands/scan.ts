// `seg scan FILE|DIR...`: runs the engine directly on stored messages and prints one verdict per
// message (a line, or a JSON object with --json). No servers, no AWS; DNS offline unless asked.
// It changes nothing: it only reads files.

import { promises as dns } from 'node:dns';
import { offlineResolver } from '../../lambdas/engine/scan-message.ts';
import type { DnsResolver } from '../../lambdas/ports/index.ts';
import { listFiles, loadCorpusConfig, scanFile } from './corpus-files.ts';

/**
 * The resolver for a --dns mode. Offline is the default: a scan of archived mail on a laptop should
 * give the same verdict every time and not sit waiting on DNS timeouts for domains long gone.
 */
export function resolverFor(mode: 'system' | 'offline' | undefined): DnsResolver {
  return mode === 'system' ? (name, rrtype) => dns.resolve(name, rrtype) : offlineResolver;
}

/** Prints a verdict per message under `paths`. Returns the exit code: 0, or 1 for a bad path or config. */
export async function scanCommand(
  paths: string[],
  opts: { json?: boolean; config?: string; dns?: 'system' | 'offline' },
): Promise<number> {
  const config = loadCorpusConfig(opts.config);
  if (!config) return 1;
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
