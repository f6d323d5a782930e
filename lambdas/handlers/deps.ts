// What handlers need, as ports. Lambda entries (lambdas/functions) build these from AWS adapters at
// cold start; the local runtime builds them from the same adapters pointed at embedded servers.

import type { SegConfig } from '../config/schema.ts';
import type { UrlFeeds } from '../engine/feeds.ts';
import type {
  AntivirusEngine,
  Clock,
  DispositionLedger,
  DnsResolver,
  FailedIngestQueue,
  Logger,
  Mailer,
  MessageStore,
  Metrics,
  OutboundSender,
  PendingIndex,
  QuarantineStore,
  SenderCounter,
  WorkflowStarter,
} from '../ports/index.ts';

export interface HandlerDeps {
  readonly config: SegConfig;
  /** Bucket holding inbound/<id>, envelopes/<id>.json and verdicts/<id>.json. */
  readonly bucket: string;
  readonly store: MessageStore;
  readonly quarantine: QuarantineStore;
  readonly ledger: DispositionLedger;
  /** Accepted messages without a final disposition yet, by due time (the reconciler's work list). */
  readonly pending: PendingIndex;
  readonly mailer: Mailer;
  readonly starter: WorkflowStarter;
  /** Ingest events that failed every retry; the reconciler re-ingests them. */
  readonly failedIngests: FailedIngestQueue;
  /**
   * SES's notice of every message its S3 action stored (AWS only): the reconciler ingests any whose
   * ingest never ran at all. Locally the listener records the envelope before its 250, so none is needed.
   */
  readonly arrivals?: FailedIngestQueue;
  readonly resolver: DnsResolver;
  /** Known-bad URL/domain feeds (config `detection.feedsDir`), loaded once per process; absent means none. */
  readonly feeds?: UrlFeeds;
  /** clamd; only the antivirus scan step uses it (HandlerDeps of other steps may leave it out). */
  readonly antivirus?: AntivirusEngine;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/** What the outbound handlers need beyond the inbound ones: SES sending and the per-sender counter. */
export interface OutboundHandlerDeps extends HandlerDeps {
  readonly sender: OutboundSender;
  readonly counter: SenderCounter;
  /** Starts the outbound workflow (submission ingest). */
  readonly outboundStarter: WorkflowStarter;
}

/** Environment variable names, defined once. */
export const ENV = {
  bucket: 'SEG_BUCKET',
  quarantineTable: 'SEG_QUARANTINE_TABLE',
  ledgerTable: 'SEG_LEDGER_TABLE',
  stateMachineArn: 'SEG_STATE_MACHINE_ARN',
  outboundStateMachineArn: 'SEG_OUTBOUND_STATE_MACHINE_ARN',
  /** The URL of ingest's on-failure SQS queue, which the reconciler drains. */
  ingestFailureQueueUrl: 'SEG_INGEST_FAILURE_QUEUE_URL',
  arrivalQueueUrl: 'SEG_ARRIVAL_QUEUE_URL',
  /** The validated seg.config.json, inlined into each bundle by esbuild `define` at synth. */
  configJson: 'SEG_CONFIG_JSON',
  /** Powertools log level: DEBUG, INFO, WARN or ERROR. */
  logLevel: 'POWERTOOLS_LOG_LEVEL',
  /** The `service` key of every log line and the metrics' service dimension. */
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  metricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
} as const;

/** The Powertools service name and metrics namespace of every function. */
export const SERVICE = 'seg';

/** S3 key layout, defined once. */
export const KEYS = {
  inboundPrefix: 'inbound/',
  inbound: (id: string) => `inbound/${id}`,
  /** Outbound submissions: the smart host (Mail Manager, HTTPS, local submission) writes each here. */
  outboxPrefix: 'outbox/',
  outbox: (id: string) => `outbox/${id}`,
  verdict: (id: string) => `verdicts/${id}.json`,
  /** The SMTP envelope ingest saw, so the reconciler can re-drive a message with its real recipients. */
  envelope: (id: string) => `envelopes/${id}.json`,
  /** Antivirus definitions freshclam fetched, and the manifest naming them (the scanners pull these). */
  avDefinitionsPrefix: 'av-definitions/',
  avDefinitions: (file: string) => `av-definitions/${file}`,
  avManifest: 'av-definitions/manifest.json',
  /** SES writes this object when a rule is created; it is not mail. */
  sesSetupNotification: 'AMAZON_SES_SETUP_NOTIFICATION',
} as const;
