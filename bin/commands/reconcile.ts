// `seg reconcile`: runs the reconciler on the local data folder now, in this process, with the same
// handlers and workflow `seg serve` runs (through a running serve's servers, or its own when none runs),
// and waits for the workflows it started. It does not run the deployed reconciler.

import { resolve } from 'node:path';
import type { ReconcileResult } from '../../lambdas/handlers/reconcile.ts';
import { openEmbeddedAws, readRunningEndpoints } from '../../lambdas/local/embedded-aws.ts';
import { createLocalRuntime } from '../../lambdas/local/gateway.ts';
import { localClamdClient } from '../../lambdas/local/local-antivirus.ts';
import { loadLocalConfig } from '../../lambdas/local/local-config.ts';

export interface ReconcileArgs {
  readonly config?: string;
  readonly dataDir?: string;
  readonly json?: boolean;
}

/** Returns the exit code: 0 when every step ran, 1 when some message could not be handled. */
export async function reconcileCommand(args: ReconcileArgs): Promise<number> {
  const fileConfig = () => loadLocalConfig(args.config).config;
  const dataDir = resolve(args.dataDir ?? fileConfig().local.dataDir);
  const running = await readRunningEndpoints(dataDir);
  const config = args.config || !running?.config ? fileConfig() : running.config;
  const aws = await openEmbeddedAws(dataDir);
  const lines: string[] = [];
  const runtime = createLocalRuntime({
    config,
    endpoints: aws.endpoints,
    dataDir,
    // The clamd serve or `seg av start` runs; with none, re-driven messages are held with AV_ERROR.
    antivirus: localClamdClient(config, dataDir),
    log: (line) => process.stderr.write(`seg reconcile: ${line}\n`),
    info: (line) => lines.push(line),
  });
  let result: ReconcileResult;
  try {
    // With no serve running nothing is in flight: every pending message is orphaned. With one, only
    // what was received before it started (its own messages may still be in their workflow).
    const orphanedBefore = running
      ? (running.startedAt ?? new Date(0).toISOString())
      : new Date().toISOString();
    result = await runtime.reconcile({ orphanedBefore });
  } finally {
    runtime.deps.close();
    await aws.stop();
  }
  if (args.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    for (const line of lines) process.stdout.write(`${line}\n`);
    process.stdout.write(
      `reconciled: ${result.redriven.length} re-driven, ${result.reingested.length} re-ingested, ` +
        `${result.heldWithoutEnvelope.length} held for postmaster, ${result.cleared.length} cleared, ` +
        `${result.deferred.delivered.length} deferred delivered\n`,
    );
  }
  return result.reingestFailed.length || result.failed.length ? 1 : 0;
}
