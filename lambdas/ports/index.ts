// Ports: the small interfaces the handlers need from the outside world. AWS adapters
// (lambdas/adapters/aws) and local ones implement them; the engine uses none of them.

import type { Envelope, Verdict } from '../engine/types.ts';

/** Raw messages and verdict traces, keyed by S3-style object keys. */
export interface MessageStore {
  get(key: string): Promise<Uint8Array>;
  put(key: string, body: Uint8Array | string, contentType?: string): Promise<void>;
  /** Whether the key exists (a missing or unreadable key is absent), without reading its body. */
  exists(key: string): Promise<boolean>;
  /** Keys under a prefix with their last-modified time (for the reconciler). */
  list(prefix: string): AsyncIterable<{ key: string; lastModified: Date }>;
}

/**
 * UNCONFIRMED: a delivery attempt sent the whole message but its outcome is unknown (no reply, or the
 * attempt died): the server may have it, so it is never sent again automatically.
 * DEFERRED is final for the workflow (the run is over) but not for the message: the reconciler
 * claims it back to retry delivery, as an MTA's queue would.
 */
export const DISPOSITIONS = [
  'DELIVERED',
  'QUARANTINED',
  'DELIVERY_FAILED',
  'DEFERRED',
  'RELEASED',
  'DELETED',
  // Outbound: handed to SES, or refused by policy (the sender was told why).
  'SENT',
  'BLOCKED',
  'UNCONFIRMED',
] as const;
export type Disposition = (typeof DISPOSITIONS)[number];

/** A ledger row's state: a lease (CLAIMED, then ATTEMPTING while the message goes out) or a disposition. */
export type LedgerState = Disposition | 'CLAIMED' | 'ATTEMPTING';

/** Options of DispositionLedger.claim. */
export interface ClaimOptions {
  /**
   * Final dispositions the claim may take over (release claims from QUARANTINED, DELIVERY_FAILED or
   * DEFERRED; the reconciler's delivery retry from DEFERRED).
   * By default a claim succeeds only on a row with no final disposition.
   */
  readonly from?: readonly Disposition[];
}

/**
 * The disposition ledger: one row per (message id, recipient). `claim` is a conditional write that
 * makes every side effect idempotent under Express workflows' at-least-once execution.
 */
export interface DispositionLedger {
  /**
   * Claims the right to perform `action` for this recipient. Returns false when a final
   * disposition is already recorded (the side effect already happened) or another worker holds
   * an unexpired claim.
   */
  claim(
    messageId: string,
    recipient: string,
    action: 'deliver' | 'quarantine' | 'send' | 'block',
    leaseMs: number,
    options?: ClaimOptions,
  ): Promise<boolean>;
  /**
   * Marks a claimed row ATTEMPTING just before the message goes out: from then on, an attempt that ends
   * without a recorded outcome is UNCONFIRMED (claim turns an expired ATTEMPTING row into it), never
   * re-sent. Throws TransientError when the row is not this claim's.
   */
  attempt(messageId: string, recipient: string, leaseMs: number): Promise<void>;
  /** Records the final disposition; conditional on the claim, so a duplicate cannot overwrite it. */
  settle(messageId: string, recipient: string, disposition: Disposition, detail?: string): Promise<void>;
  /**
   * Gives up an unsettled claim after a failed attempt, so a retry or the next step may claim again:
   * restores the disposition it was claimed from, or else leaves an expired CLAIMED row (so the
   * message still shows an unfinished recipient). No-op when the row is not CLAIMED.
   */
  abandon(messageId: string, recipient: string): Promise<void>;
  /**
   * Ends the leases of CLAIMED rows taken before `claimedBefore` by a runtime known to be gone (the local
   * gateway after a crash), so a re-drive need not wait for them to expire. Returns how many it ended.
   */
  expireClaims(messageId: string, claimedBefore: Date): Promise<number>;
  /** Recorded state per recipient (CLAIMED includes expired and abandoned leases); empty when none yet. */
  get(messageId: string): Promise<Record<string, LedgerState>>;
}

/**
 * DEFERRED: the downstream server was unavailable (4xx, no connection); the reconciler retries it.
 * DELIVERED: a deferred item a later retry delivered (kept so its history stays visible until TTL).
 */
export type QuarantineStatus =
  | 'QUARANTINED'
  | 'DELIVERY_FAILED'
  | 'DEFERRED'
  | 'DELIVERED'
  | 'RELEASED'
  | 'DELETED'
  // Outbound: BLOCKED by policy (kept as a record of what was refused); SENT after a release.
  | 'BLOCKED'
  | 'SENT'
  | 'UNCONFIRMED';

/** One quarantine item: flat attributes, readable in the DynamoDB console. */
export interface QuarantineItem {
  readonly messageId: string;
  readonly recipient: string;
  readonly sender: string;
  readonly subject: string;
  readonly score: number;
  readonly symbols: string;
  readonly reason: string;
  readonly status: QuarantineStatus;
  /** ISO-8601 time the gateway received the message. */
  readonly receivedAt: string;
  /** S3 key of the raw message. */
  readonly messageKey: string;
  /** Epoch seconds after which DynamoDB TTL may delete the item. */
  readonly expiresAt: number;
  /** Delivery rounds so far (deferred items; the workflow's round with its quick retries counts as one). */
  readonly attempts?: number;
  /** ISO-8601 time the reconciler may next retry a DEFERRED item. */
  readonly nextAttemptAt?: string;
  /** The last delivery error of a deferred item, bounded. */
  readonly lastError?: string;
  /** `outbound` for mail leaving the organisation (absent: inbound). */
  readonly direction?: 'inbound' | 'outbound';
  /** Malware was found (MALWARE_SYMBOLS): only an administrator's forced release delivers it. */
  readonly adminRelease?: boolean;
}

/** Attributes a conditional update may change; `undefined` removes the attribute. */
export type QuarantineChanges = Partial<
  Pick<QuarantineItem, 'status' | 'reason' | 'attempts' | 'nextAttemptAt' | 'lastError'>
>;

export interface QuarantineStore {
  /** Idempotent: writing the same (messageId, recipient) twice leaves one item. */
  put(item: QuarantineItem): Promise<void>;
  get(messageId: string, recipient: string): Promise<QuarantineItem | undefined>;
  /** Items by status, newest first, hiding expired ones. */
  listByStatus(status: QuarantineStatus, limit?: number): Promise<QuarantineItem[]>;
  listByRecipient(recipient: string, limit?: number): Promise<QuarantineItem[]>;
  setStatus(messageId: string, recipient: string, status: QuarantineStatus): Promise<void>;
  /**
   * Applies `changes` only while the item's status is `ifStatus`. Returns false when it is not (or
   * the item is gone): someone else (a release, a delete) moved it on, and their change stands.
   */
  update(
    messageId: string,
    recipient: string,
    ifStatus: QuarantineStatus,
    changes: QuarantineChanges,
  ): Promise<boolean>;
  /** DEFERRED items whose nextAttemptAt is not after `now`, oldest received first. */
  listDue(now: Date, limit: number): Promise<QuarantineItem[]>;
}

/** What the downstream server said. Recipients it refused while accepting others are in `rejected`. */
export interface MailerResult {
  readonly response: string;
  readonly rejected?: readonly {
    readonly recipient: string;
    readonly responseCode?: number;
    readonly response: string;
  }[];
}

/** What Mailer.send takes. */
export interface MailerInput {
  readonly envelope: Envelope;
  readonly raw: Uint8Array;
  readonly domain: string;
  /**
   * Awaited after the whole body is handed over and before the transaction is committed (SMTP's final
   * dot, a file's rename): the caller records the attempt there, so a crash before it leaves nothing
   * delivered and a crash after it leaves an attempt whose outcome is known to be unknown. A rejection
   * aborts the transaction uncommitted.
   */
  readonly beforeCommit?: () => Promise<void>;
}

/**
 * Relays one message to its destination. Throws TransientDeliveryError or PermanentDeliveryError when
 * nothing was committed, UnconfirmedDeliveryError when it may have been.
 */
export interface Mailer {
  send(input: MailerInput): Promise<MailerResult>;
}

/** One accepted message without a final disposition yet, as the pending index holds it. */
export interface PendingMessage {
  readonly messageId: string;
  /** ISO-8601 time the gateway accepted it. */
  readonly receivedAt: string;
  /** ISO-8601 time the reconciler may next look at it (receivedAt + the minimum age, then backoff). */
  readonly dueAt: string;
  /** Re-drives so far. */
  readonly redrives: number;
}

/**
 * The pending index: one entry per accepted message, written before the SMTP reply (locally) or at
 * ingest (AWS), removed once every envelope recipient has a final disposition. The reconciler reads
 * it by due time instead of listing the bucket, so it reaches every undisposed message whatever the
 * bucket holds.
 */
export interface PendingIndex {
  /** Records an accepted message, due `dueAt`. Idempotent; keeps an entry's re-drive count. */
  add(messageId: string, receivedAt: string, dueAt: string): Promise<void>;
  /** Forgets a disposed message. No-op when absent. */
  remove(messageId: string): Promise<void>;
  /** Entries due at or before `dueBefore`, earliest first, at most `limit`. */
  due(dueBefore: Date, limit: number): Promise<PendingMessage[]>;
  /** Records a re-drive: the entry is next due at `nextDueAt`. */
  redriven(messageId: string, redrives: number, nextDueAt: string): Promise<void>;
}

/** What SES said when it accepted a message. */
export interface SendResult {
  readonly sesMessageId: string;
}

/**
 * Sends outbound mail through SES (SESv2 SendEmail, raw content). One call is one SES request: at most
 * 50 recipients, which the caller guarantees. Throws TransientDeliveryError (throttling, 5xx) or
 * PermanentDeliveryError (SES refused the message).
 */
export interface OutboundSender {
  send(input: {
    readonly raw: Uint8Array;
    readonly from: string;
    readonly recipients: readonly string[];
    readonly configurationSet: string;
  }): Promise<SendResult>;
}

/** Per-sender counts in a time window, for the outbound abuse check. */
export interface SenderCounter {
  /**
   * Adds one message with `recipients` recipients to the sender's count for the window starting at
   * `windowStart`, once per messageId (a retried call does not count twice). Returns the totals.
   */
  add(
    sender: string,
    windowStart: Date,
    messageId: string,
    recipients: number,
  ): Promise<{ readonly messages: number; readonly recipients: number }>;
}

/** Starts the inbound workflow for a stored message. */
export interface WorkflowStarter {
  start(input: WorkflowInput): Promise<{ executionId: string }>;
}

/** One ingest event that failed every retry, as the ingest failure queue holds it. */
export interface FailedIngest {
  /** The queue's own id for it (an SQS message id, a local file name), for logs. */
  readonly id: string;
  /** The SES Lambda-action event ingest was invoked with; ingest validates it as it always does. */
  readonly event: unknown;
  /** Removes it from the queue. Call only once ingest has succeeded on it. */
  ack(): Promise<void>;
}

/**
 * The ingest failure queue: where SES events whose ingest failed every retry wait (Lambda's on-failure
 * destination in AWS, a folder locally). The reconciler drains it through the same ingest logic.
 */
export interface FailedIngestQueue {
  /**
   * Up to `max` failed ingests. A record that cannot be read is logged and left in the queue for a
   * person (never deleted silently), so the IngestFailed alarm stays on.
   */
  receive(max: number): Promise<readonly FailedIngest[]>;
}

/** Same shape as dns.promises.resolve, so tests and the local runtime can inject a zone. */
export type DnsResolver = (name: string, rrtype: string) => Promise<unknown>;

/** What an antivirus engine said about one file (or the whole raw message). */
export interface AntivirusVerdict {
  readonly infected: boolean;
  /** The engine's signature name, e.g. `Eicar-Signature`, when infected. */
  readonly signature?: string;
}

/**
 * An antivirus engine: clamd locally, in CI and in the antivirus Lambda. `scan` throws when the engine
 * cannot answer (not running, timed out, refused the stream); the engine's scanner makes that AV_ERROR.
 */
export interface AntivirusEngine {
  /** `name` is only for the engine's log and our error messages. */
  scan(bytes: Uint8Array, name: string, signal?: AbortSignal): Promise<AntivirusVerdict>;
  /** The engine and signature versions, e.g. `ClamAV 1.4.6/27000/...`. */
  version?(): Promise<string>;
  /** The most bytes one scan accepts (clamd's StreamMaxLength); the scanner does not send more. */
  readonly maxBytes: number;
  /** Where the engine is, for messages: `unix:/path` or `tcp://host:port`. */
  readonly address: string;
}

/** What the av-definitions job stores beside the definition files: which files make one set. */
export interface DefinitionsManifest {
  /** Changes whenever any file changes (freshclam's database versions joined). */
  readonly version: string;
  readonly files: readonly string[];
  readonly updatedAt: string;
}

/** The clock, injected so TTLs and leases are testable. */
export type Clock = () => Date;

/** The workflow's input: what ingest knows about a stored message. Small: keys, never bodies. */
export interface WorkflowInput {
  readonly messageId: string;
  readonly bucket: string;
  readonly key: string;
  readonly envelope: Envelope;
  readonly receivedAt: string;
  readonly ses?: import('../engine/types.ts').SesVerdicts;
  readonly direction: 'inbound' | 'outbound';
  /** Outbound: the authenticated submitter (SMTP AUTH user or IAM principal); notices go to its sender only. */
  readonly submitter?: string;
  /**
   * True when the reconciler rebuilt the envelope from header To/Cc/Delivered-To (filtered to the
   * protected domains) because the stored envelope was missing: Bcc recipients are then lost.
   */
  readonly envelopeFromHeaders?: boolean;
}

/**
 * What Parse returns into `$.parse`: small and bounded, it travels in the workflow state. The parsed
 * message itself is not stored: the scanner steps that read it parse the raw message again.
 */
export interface ParseSummary {
  readonly sizeBytes: number;
  readonly truncated: boolean;
  /** Parse problems, capped in count and length. */
  readonly problems: readonly string[];
  /** From the topmost Received header, which SES (or the local listener) added. */
  readonly remoteIp?: string;
  readonly helo?: string;
  /** The header From address and the Subject, capped, for the quarantine item and the block notice. */
  readonly from?: string;
  readonly subject?: string;
}

/** What Decide adds: the verdict summary the Choice state branches on. The full trace is in S3. */
export interface DecidedState extends WorkflowInput {
  readonly parse?: ParseSummary;
  readonly verdict: Pick<Verdict, 'action' | 'score' | 'symbols' | 'reason'> & {
    readonly traceKey: string;
    /** The Authentication-Results value Deliver adds (bounded); absent without AUTH findings. */
    readonly authResults?: string;
  };
}

/** Fields of one structured log line: identifiers, counts and short reasons, never message bodies. */
export type LogFields = Readonly<Record<string, string | number | boolean | readonly string[] | undefined>>;

/** Structured logging: one line per decision or disposition, searchable by messageId. */
export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** The gateway's metrics, each counted by one dimension (see MetricDimension). */
export const METRICS = {
  /** Messages decided, by verdict action. */
  Messages: 'action',
  /** Recipients disposed, by final status (DELIVERED, QUARANTINED, DEFERRED, DELIVERY_FAILED...). */
  Dispositions: 'status',
  /** Scanner findings meaning "our scanner could not answer", by symbol family. */
  ScannerErrors: 'family',
} as const;
export type MetricName = keyof typeof METRICS;

/** Counters. Adapters emit them without API calls (EMF in Lambda, memory locally). */
export interface Metrics {
  /** Adds `value` (default 1) to `name` for the dimension value `dimension` (e.g. an action). */
  count(name: MetricName, dimension: string, value?: number): void;
}
