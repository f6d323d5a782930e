// `seg scan FILE|DIR...`: runs the engine directly on stored messages and prints one verdict per
// message (a line, or a JSON object with --json). No servers, no AWS; DNS offline unless asked.
// It changes nothing: it only reads files.

import { promises as dns } from 'node:dns';
import type { SegConfig } from '../../lambdas/config/schema.ts';
import { offlineResolver } from '../../lambdas/engine/scan-message.ts';
import { localClamdClient } from '../../lambdas/local/local-antivirus.ts';
import type { AntivirusEngine, DnsResolver } from '../../lambdas/ports/index.ts';
import { listFiles, loadCorpusConfig, scanFile } from './corpus-files.ts';
import { withResultsOnStdout } from './stdout.ts';

/**
 * The resolver for a --dns mode. Offline is the default: a scan of archived mail on a laptop should
 * give the same verdict every time and not sit waiting on DNS timeouts for domains long gone.
 */
export function resolverFor(mode: 'system' | 'offline' | undefined): DnsResolver {
  return mode === 'system' ? (name, rrtype) => dns.resolve(name, rrtype) : offlineResolver;
}

/**
 * `--av`: `on` scans with clamd and holds every message with AV_ERROR when none answers (the gateway's
 * fail-closed rule); `off` scans without antivirus; `auto` (the default) uses clamd when one answers
 * (`antivirus.clamd`, else the one `seg av start` runs under <dataDir>/clamav) and otherwise scans
 * without antivirus. Every mode but a working `on`/`auto` says so on stderr, once.
 */
export type AvMode = 'auto' | 'on' | 'off';

/** The antivirus engine for `mode`, and the one line telling the user what the scan does about malware. */
export async function antivirusFor(
  mode: AvMode,
  config: SegConfig,
): Promise<{ engine?: AntivirusEngine; note: string }> {
  if (mode === 'off') return { note: 'antivirus off (--av off): attachments are not scanned for malware' };
  const client = localClamdClient(config, config.local.dataDir);
  if (await client.ping()) return { engine: client, note: `antivirus: clamd at ${client.address}` };
  if (mode === 'on') {
    return {
      engine: client,
      note: `NO ANTIVIRUS ENGINE at ${client.address}: every message gets AV_ERROR and is held (start one with \`npx seg av start\`)`,
    };
  }
  return {
    note: `no clamd at ${client.address}: scanned WITHOUT antivirus (start one with \`npx seg av start\`; --av on requires it)`,
  };
}

/** Prints a verdict per message under `paths`. Returns the exit code: 0, or 1 for a bad path or config. (stdout carries nothing else). */
export function scanCommand(
  paths: string[],
  opts: { json?: boolean; config?: string; dns?: 'system' | 'offline'; av?: AvMode },
): Promise<number> {
  return withResultsOnStdout(() => scanCommandUnguarded(paths, opts));
}

/** The command itself, writing its results to stdout. */
async function scanCommandUnguarded(
  paths: string[],
  opts: { json?: boolean; config?: string; dns?: 'system' | 'offline'; av?: AvMode },
): Promise<number> {
  const config = loadCorpusConfig(opts.config);
  if (!config) return 1;
  const resolver = resolverFor(opts.dns);
  const { engine, note } = await antivirusFor(opts.av ?? 'auto', config);
  process.stderr.write(`seg scan: ${note}\n`);
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
      const { verdict, readError } = await scanFile(file, config, resolver, undefined, engine);
      if (readError) process.stderr.write(`seg scan: ${file}: ${readError}\n`);
      const line = opts.json
        ? JSON.stringify({
            file,
            action: verdict.action,
            score: verdict.score,
            symbols: verdict.symbols,
            reason: verdict.reason,
            // What put each symbol there: the classifier's probability and tokens, the URL, the file...
            findings: verdict.findings.map(({ symbol, weight, evidence, file }) => ({
              symbol,
              weight,
              ...(evidence ? { evidence } : {}),
              ...(file ? { file } : {}),
            })),
          })
        : `${file}\t${verdict.action}\t${verdict.score}\t${verdict.symbols.join(' ')}`;
      process.stdout.write(`${line}\n`);
    }
  }
  return code;
}
