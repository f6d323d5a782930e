// Assembles HandlerDeps for the local runtime from the SAME AWS adapters the Lambdas use, pointed at the
// embedded servers, and builds every handler from the SAME factories CDK deploys. Only the mailer
// differs by design: a folder of .eml files, or the configured loopback downstream server.

import { promises as dns } from 'node:dns';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { createDynamoClient, createS3Client } from '../adapters/aws/aws-clients.ts';
import { DynamoLedger } from '../adapters/aws/dynamo-ledger.ts';
import { DynamoPendingIndex } from '../adapters/aws/dynamo-pending-index.ts';
import { DynamoQuarantineStore } from '../adapters/aws/dynamo-quarantine-store.ts';
import { S3MessageStore } from '../adapters/aws/s3-message-store.ts';
import { SmtpMailer, type SmtpTimeouts } from '../adapters/aws/smtp-mailer.ts';
import { FolderFailedIngestQueue } from '../adapters/local/folder-failed-ingests.ts';
import { FolderMailer } from '../adapters/local/folder-mailer.ts';
import { CountingMetrics, RecordingLogger } from '../adapters/local/observability.ts';
import { loadUrlFeeds } from '../adapters/local/url-feeds.ts';
import { ConfigError } from '../config/load-config.ts';
import type { SegConfig } from '../config/schema.ts';
import { createDecideHandler } from '../handlers/decide.ts';
import { createDeliverHandler } from '../handlers/deliver.ts';
import type { HandlerDeps } from '../handlers/deps.ts';
import { createIngestHandler } from '../handlers/ingest.ts';
import { createParseHandler } from '../handlers/parse.ts';
import { createQuarantineHandler } from '../handlers/quarantine.ts';
import { createReconcileHandler } from '../handlers/reconcile.ts';
import { createReleaseHandler } from '../handlers/release.ts';
import { createScanAntivirusHandler, createScanHandler } from '../handlers/scan.ts';
import type {
  AntivirusEngine,
  Clock,
  DnsResolver,
  Logger,
  Mailer,
  Metrics,
  OutboundSender,
  WorkflowStarter,
} from '../ports/index.ts';
import type { EmbeddedEndpoints } from './embedded-aws.ts';
import type { TaskHandler, WorkflowHandlers } from './local-workflow.ts';

export interface LocalDepsOptions {
  readonly config: SegConfig;
  readonly endpoints: EmbeddedEndpoints;
  readonly dataDir: string;
  /** Usually the LocalWorkflow; the CLI, which starts no workflow, passes one that refuses. */
  readonly starter: WorkflowStarter;
  /** @default dns.promises.resolve */
  readonly resolver?: DnsResolver;
  /** clamd for the antivirus scan step; without one that step yields AV_ERROR (fail closed). */
  readonly antivirus?: AntivirusEngine;
  readonly clock?: Clock;
  /**
   * The handlers' structured log. The local console shows the gateway's own outcome lines instead.
   * @default a RecordingLogger that prints nothing
   */
  readonly logger?: Logger;
  /** @default in-memory CountingMetrics */
  readonly metrics?: Metrics;
  /** The downstream SMTP waits (tests shorten them). @default the delivery budget's */
  readonly smtpTimeouts?: Partial<SmtpTimeouts>;
}

/** Where delivered mail goes when no downstream server is configured. */
export const deliveredFolder = (dataDir: string): string => join(dataDir, 'delivered');

/** Where the listener keeps the SES event of an ingest that failed every retry, for the reconciler. */
export const ingestFailuresFolder = (dataDir: string): string => join(dataDir, 'ingest-failures');

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/i;

/** The local mailer: the downstream SMTP server when configured, else the delivered/ folder. */
export function localMailer(config: SegConfig, dataDir: string, timeouts?: Partial<SmtpTimeouts>): Mailer {
  const downstream = config.local.downstream;
  if (!downstream) return new FolderMailer(deliveredFolder(dataDir));
  const route = {
    host: downstream.host,
    port: downstream.port,
    tls: downstream.secure ? ('implicit' as const) : ('starttls' as const),
  };
  // Plain SMTP never leaves the machine: a non-loopback downstream must speak TLS.
  return new SmtpMailer({
    domains: config.domains.map((d) => ({ name: d.name, route })),
    allowPlain: LOOPBACK.test(downstream.host) && !downstream.secure,
    ...(timeouts ? { timeouts } : {}),
  });
}

/** HandlerDeps over the embedded servers. `close()` releases the SDK clients. */
export function localDeps(options: LocalDepsOptions): HandlerDeps & {
  readonly failedIngests: FolderFailedIngestQueue;
  /** The SDK clients behind the adapters (e.g. to count the AWS calls a message makes). */
  readonly clients: { readonly s3: S3Client; readonly dynamo: DynamoDBClient };
  close(): void;
} {
  const { config, endpoints } = options;
  const clock = options.clock ?? (() => new Date());
  const logger = options.logger ?? new RecordingLogger();
  const connection = { endpoint: '', region: endpoints.region, credentials: endpoints.credentials };
  const s3 = createS3Client({ ...connection, endpoint: endpoints.s3 });
  const dynamo = createDynamoClient({ ...connection, endpoint: endpoints.dynamodb });
  return {
    config,
    bucket: endpoints.bucket,
    store: new S3MessageStore({ client: s3, bucket: endpoints.bucket }),
    quarantine: new DynamoQuarantineStore({ client: dynamo, tableName: endpoints.quarantineTable, clock }),
    ledger: new DynamoLedger({
      client: dynamo,
      tableName: endpoints.ledgerTable,
      clock,
      retentionDays: config.retention.messageDays,
    }),
    pending: new DynamoPendingIndex({
      client: dynamo,
      tableName: endpoints.ledgerTable,
      retentionDays: config.retention.messageDays,
    }),
    mailer: localMailer(config, options.dataDir, options.smtpTimeouts),
    starter: options.starter,
    failedIngests: new FolderFailedIngestQueue(ingestFailuresFolder(options.dataDir), logger),
    resolver: options.resolver ?? ((name, rrtype) => dns.resolve(name, rrtype)),
    feeds: loadUrlFeeds(config.detection.feedsDir),
    ...(options.antivirus ? { antivirus: options.antivirus } : {}),
    clock,
    logger,
    metrics: options.metrics ?? new CountingMetrics(),
    clients: { s3, dynamo },
    close() {
      s3.destroy();
      dynamo.destroy();
    },
  };
}

/** Every handler the local runtime calls, each from the factory its Lambda entry uses. */
export interface LocalHandlers {
  readonly workflow: WorkflowHandlers;
  readonly ingest: TaskHandler;
  readonly release: TaskHandler;
  readonly reconcile: TaskHandler;
}

/**
 * `sender` (SES) lets release send held outbound mail, `outboundStarter` lets the reconciler re-drive
 * outbound submissions; without them such a release is refused and such a re-drive left due.
 */
export function buildLocalHandlers(
  deps: HandlerDeps & { readonly sender?: OutboundSender; readonly outboundStarter?: WorkflowStarter },
): LocalHandlers {
  const task = <T>(handler: (event: T) => Promise<unknown>): TaskHandler => handler as TaskHandler;
  return {
    workflow: {
      Parse: task(createParseHandler(deps)),
      ScanAuth: task(createScanHandler('auth', deps)),
      ScanContent: task(createScanHandler('content', deps)),
      ScanAttachments: task(createScanHandler('attachments', deps)),
      ScanLists: task(createScanHandler('lists', deps)),
      ScanAntivirus: task(createScanAntivirusHandler(deps)),
      Decide: task(createDecideHandler(deps)),
      Deliver: task(createDeliverHandler(deps)),
      Quarantine: task(createQuarantineHandler(deps)),
    },
    ingest: task(createIngestHandler(deps)),
    release: task(createReleaseHandler(deps)),
    reconcile: task(createReconcileHandler(deps)),
  };
}

/** A starter for processes that must not start workflows (the CLI's release path never does). */
export const refusingStarter: WorkflowStarter = {
  start: () => Promise.reject(new ConfigError('seg quarantine', ['this process does not run workflows'])),
};
