// The whole local gateway in one process: embedded S3/DynamoDB, the inbound workflow run by
// aws-local-stepfunctions over the same handlers, the SMTP listener, and the periodic reconciler.
// `seg serve` and the end-to-end tests both start it through startLocalGateway().

import { resolve } from 'node:path';
import type { SmtpTimeouts } from '../adapters/aws/smtp-mailer.ts';
import type { SegConfig } from '../config/schema.ts';
import type { HandlerDeps } from '../handlers/deps.ts';
import { createEnvelopeRecorder } from '../handlers/ingest.ts';
import type { ReconcileEvent, ReconcileResult } from '../handlers/reconcile.ts';
import { createReleaseHandler, type ReleaseResult } from '../handlers/release.ts';
import type { AntivirusEngine, Clock, DnsResolver, WorkflowStarter } from '../ports/index.ts';
import { type EmbeddedEndpoints, publishSesEndpoint, startEmbeddedAws } from './embedded-aws.ts';
import { findOrStartClamd, type LocalAntivirus } from './local-antivirus.ts';
import { buildLocalHandlers, deliveredFolder, type LocalHandlers, localDeps } from './local-deps.ts';
import { type ExecutionRecord, LocalWorkflow } from './local-workflow.ts';
import { type IngestHandler, type SmtpListener, startSmtpListener } from './smtp-listener.ts';
import { type LocalSubmission, startLocalSubmission } from './submission.ts';

/** How often the reconciler runs locally (the deployed schedule's counterpart). */
export const LOCAL_RECONCILE_INTERVAL_MS = 5 * 60_000;

export interface LocalGatewayOptions {
  readonly config: SegConfig;
  /** @default config.local.dataDir */
  readonly dataDir?: string;
  /** @default config.local.smtpPort; 0 picks a free port */
  readonly smtpPort?: number;
  /** @default config.local.submissionPort; 0 picks a free port (used only when outbound.submitters is set) */
  readonly submissionPort?: number;
  /** Replace every workflow Retry pause with this many ms (tests). @default the definition's intervals */
  readonly retryIntervalMs?: number;
  /** @default dns.promises.resolve */
  readonly resolver?: DnsResolver;
  /**
   * The antivirus engine. @default `antivirus.clamd`, else the clamd `seg av start` runs under
   * <dataDir>/clamav, else one started for this run (antivirus.autoStart); with none, AV_ERROR holds mail.
   */
  readonly antivirus?: AntivirusEngine;
  readonly clock?: Clock;
  /** Run the reconciler once at start-up. @default true */
  readonly reconcileAtStart?: boolean;
  /** Run the reconciler this often; false disables it. @default LOCAL_RECONCILE_INTERVAL_MS */
  readonly reconcileIntervalMs?: number | false;
  /** Where problems are reported (failed executions, failed ingest). @default console.error */
  readonly log?: (line: string) => void;
  /** Wraps the ingest the listener invokes, e.g. to make it fail in a test. @default none */
  readonly interceptIngest?: (ingest: IngestHandler) => IngestHandler;
  /** Pause between the listener's ingest retries. @default the listener's */
  readonly ingestRetryMs?: number;
  /** The downstream SMTP waits (tests shorten them). @default the delivery budget's */
  readonly smtpTimeouts?: Partial<SmtpTimeouts>;
  /** Where each message's outcome is reported (accepted, delivered, quarantined). @default silent */
  readonly info?: (line: string) => void;
}

export interface LocalGateway {
  readonly config: SegConfig;
  readonly dataDir: string;
  readonly smtp: { readonly host: string; readonly port: number };
  /** The authenticated submission port and the outbound side, when the config names submitters. */
  readonly submission?: LocalSubmission;
  readonly endpoints: EmbeddedEndpoints;
  readonly workflow: LocalWorkflow;
  readonly handlers: LocalHandlers;
  /** The adapters the handlers use (for tests and tools that inspect state). */
  readonly deps: HandlerDeps;
  /** Where mail goes: the downstream server or the delivered/ folder. */
  readonly deliversTo: string;
  /** The antivirus engine's address and one status line (which says so when no engine answers). */
  readonly antivirus: { readonly address: string; readonly running: boolean; readonly status: string };
  /** Resolves when every accepted message has finished its ingest and workflow. */
  drain(): Promise<void>;
  /** `force`: an administrator's override (malware, or an unconfirmed delivery they checked). */
  release(messageId: string, recipient: string, force?: boolean): Promise<ReleaseResult>;
  /** Runs the reconciler (by default treating messages received before start-up as orphaned). */
  reconcile(event?: ReconcileEvent): Promise<ReconcileResult>;
  /** Stops accepting mail, finishes in-flight work, then stops the servers. */
  close(): Promise<void>;
}

/** The handlers and the workflow over one set of embedded endpoints: what serve and `seg reconcile` run. */
export interface LocalRuntime {
  readonly deps: ReturnType<typeof localDeps>;
  readonly handlers: LocalHandlers;
  readonly workflow: LocalWorkflow;
  /** Runs the reconciler, reports what it did, and waits for the workflows it started. */
  reconcile(event?: ReconcileEvent): Promise<ReconcileResult>;
}

export function createLocalRuntime(
  options: Pick<
    LocalGatewayOptions,
    'config' | 'retryIntervalMs' | 'resolver' | 'antivirus' | 'clock' | 'log' | 'info' | 'smtpTimeouts'
  > & {
    readonly endpoints: EmbeddedEndpoints;
    readonly dataDir: string;
    /** Starts the outbound workflow, for the reconciler's re-drive of outbound submissions. */
    readonly outboundStarter?: WorkflowStarter;
  },
): LocalRuntime {
  const log = options.log ?? ((line: string) => console.error(line));
  const info = options.info ?? (() => undefined);
  // The workflow needs the handlers and the handlers' ingest needs the workflow: bind late.
  let workflow: LocalWorkflow | undefined;
  const deps = localDeps({
    config: options.config,
    endpoints: options.endpoints,
    dataDir: options.dataDir,
    starter: { start: (input) => workflow!.start(input) },
    ...(options.resolver ? { resolver: options.resolver } : {}),
    ...(options.antivirus ? { antivirus: options.antivirus } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.smtpTimeouts ? { smtpTimeouts: options.smtpTimeouts } : {}),
  });
  const handlers = buildLocalHandlers({
    ...deps,
    ...(options.outboundStarter ? { outboundStarter: options.outboundStarter } : {}),
  });
  workflow = new LocalWorkflow({
    handlers: handlers.workflow,
    ...(options.retryIntervalMs !== undefined ? { retryIntervalMs: options.retryIntervalMs } : {}),
    onExecutionSucceeded: (record) => info(outcomeLine(record)),
    onExecutionFailed: (id, error) =>
      log(`workflow ${id} failed (${error.name}: ${error.message}); the reconciler will re-drive it`),
  });
  const reconcile = async (event?: ReconcileEvent) => {
    const result = (await handlers.reconcile(event ?? {})) as ReconcileResult;
    for (const id of result.reingested) info(`re-ingested ${id} after its failed ingest`);
    for (const id of result.reingestFailed) log(`re-ingest of ${id} failed again; kept in ingest-failures/`);
    for (const r of result.redriven) info(`re-drove ${r.messageId} (re-drive ${r.redrives})`);
    for (const id of result.heldWithoutEnvelope)
      log(`held ${id} for postmaster: no envelope is stored, so its recipients are unknown`);
    for (const item of result.deferred.delivered) info(`delivered deferred ${item}`);
    for (const item of result.deferred.failed) info(`gave up on deferred ${item}: held as DELIVERY_FAILED`);
    await workflow.drain();
    return result;
  };
  return { deps, handlers, workflow, reconcile };
}

export async function startLocalGateway(options: LocalGatewayOptions): Promise<LocalGateway> {
  const { config } = options;
  const log = options.log ?? ((line: string) => console.error(line));
  const info = options.info ?? (() => undefined);
  const dataDir = resolve(options.dataDir ?? config.local.dataDir);
  const av: LocalAntivirus | { client: AntivirusEngine; running: true; status: string; owned?: undefined } =
    options.antivirus
      ? { client: options.antivirus, running: true, status: `antivirus at ${options.antivirus.address}` }
      : await findOrStartClamd(config, dataDir, { start: true });
  if (!av.running) log(`antivirus: ${av.status}`);
  let aws: Awaited<ReturnType<typeof startEmbeddedAws>>;
  try {
    aws = await startEmbeddedAws({ dataDir, config });
  } catch (cause) {
    await av.owned?.stop();
    throw cause;
  }
  // The outbound side starts after the runtime; the reconciler re-drives submissions into it.
  let submission: LocalSubmission | undefined;
  const outboundStarter: WorkflowStarter = {
    start: (input) =>
      submission
        ? submission.outbound.workflow.start(input)
        : Promise.reject(new Error('no outbound side: the config names no outbound.submitters')),
  };
  const runtime = createLocalRuntime({
    ...options,
    antivirus: av.client,
    endpoints: aws.endpoints,
    dataDir,
    outboundStarter,
  });
  const { deps, handlers, workflow } = runtime;
  // Anything received before now was left by a process that is gone: its workflows died with it.
  const startedAt = deps.clock().toISOString();

  let listener: SmtpListener;
  try {
    listener = await startSmtpListener({
      config,
      store: deps.store,
      recordEnvelope: createEnvelopeRecorder(deps),
      ingest: (options.interceptIngest ?? ((ingest) => ingest))((event) => {
        const mail = event.Records[0]?.ses;
        if (mail)
          info(
            `accepted ${mail.mail.messageId} from <${mail.mail.source}> for ${mail.receipt.recipients.join(', ')}`,
          );
        return handlers.ingest(event);
      }),
      ...(options.ingestRetryMs !== undefined ? { ingestRetryMs: options.ingestRetryMs } : {}),
      ...(options.smtpPort !== undefined ? { port: options.smtpPort } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      onIngestFailed: async (id, error, event) => {
        log(
          `ingest of ${id} failed after retries (${error.name}: ${error.message}); left for the reconciler`,
        );
        await deps.failedIngests
          .record(id, event)
          .catch((cause: Error) => log(`could not keep the failed ingest event of ${id}: ${cause.message}`));
      },
    });
  } catch (cause) {
    deps.close();
    await aws.stop();
    await av.owned?.stop();
    throw cause;
  }

  if (config.outbound.submitters.length > 0) {
    try {
      submission = await startLocalSubmission({
        deps,
        endpoints: aws.endpoints,
        dataDir,
        info,
        log,
        ...(options.submissionPort !== undefined ? { port: options.submissionPort } : {}),
        ...(options.retryIntervalMs !== undefined ? { retryIntervalMs: options.retryIntervalMs } : {}),
      });
    } catch (cause) {
      await listener.close();
      deps.close();
      await aws.stop();
      throw cause;
    }
    // `seg quarantine release` of outbound mail sends through this emulator.
    publishSesEndpoint(dataDir, submission.outbound.ses.url);
  }
  // Release sends held outbound mail through SES, when this gateway has an outbound side.
  const release = submission
    ? createReleaseHandler({ ...deps, sender: submission.outbound.deps.sender })
    : handlers.release;

  const drain = async () => {
    // Ingest starts executions: wait for the ingests first, then for the executions they started.
    await listener.drain();
    await workflow.drain();
    await submission?.drain();
  };

  // One run at a time: the start-up run, the timer's and a caller's never overlap.
  let running: Promise<unknown> = Promise.resolve();
  const reconcile = (event: ReconcileEvent = { orphanedBefore: startedAt }) => {
    const run = running.then(() => runtime.reconcile(event));
    running = run.catch(() => undefined);
    return run;
  };
  const background = () => {
    reconcile().catch((error: Error) => log(`reconcile failed: ${error.message}`));
  };
  // At start-up: whatever a crashed predecessor accepted is delivered now, not in 15 minutes.
  if (options.reconcileAtStart !== false) background();
  let timer: NodeJS.Timeout | undefined;
  if (options.reconcileIntervalMs !== false) {
    timer = setInterval(background, options.reconcileIntervalMs ?? LOCAL_RECONCILE_INTERVAL_MS);
    timer.unref();
  }

  const downstream = config.local.downstream;
  return {
    config,
    dataDir,
    smtp: { host: listener.host, port: listener.port },
    ...(submission ? { submission } : {}),
    endpoints: aws.endpoints,
    workflow,
    handlers,
    deps,
    deliversTo: downstream ? `smtp://${downstream.host}:${downstream.port}` : deliveredFolder(dataDir),
    antivirus: { address: av.client.address, running: av.running, status: av.status },
    drain,
    release: async (messageId, recipient, force) =>
      (await release({ messageId, recipient, ...(force ? { force } : {}) })) as ReleaseResult,
    reconcile,
    async close() {
      if (timer) clearInterval(timer);
      await listener.close();
      await running;
      await drain();
      await submission?.close();
      deps.close();
      await aws.stop();
      await av.owned?.stop();
    },
  };
}

/** One line saying what the workflow did with a message, from its final output. */
function outcomeLine(record: ExecutionRecord): string {
  const id = record.input.messageId;
  const out = (record.output ?? {}) as {
    delivered?: readonly string[];
    quarantined?: readonly string[];
    status?: string;
    skipped?: readonly unknown[];
  };
  if (out.delivered?.length) return `delivered ${id} to ${out.delivered.join(', ')}`;
  if (out.quarantined?.length && out.status === 'DEFERRED')
    return `deferred ${id} for ${out.quarantined.join(', ')}: the server is unavailable; retrying later`;
  if (out.quarantined?.length)
    return `held ${id} as ${out.status ?? 'QUARANTINED'} for ${out.quarantined.join(', ')}`;
  return `finished ${id} (every recipient already had a disposition)`;
}
