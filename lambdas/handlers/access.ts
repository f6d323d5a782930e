// What each Lambda function reads and writes in the message bucket, by key prefix: the contract the
// CDK grants (lib/) should implement, checked against the handlers' real accesses by a test.

import { KEYS } from './deps.ts';

/** Key prefixes of the message bucket, derived from the KEYS layout. */
export const PREFIXES = {
  inbound: KEYS.inboundPrefix,
  verdicts: KEYS.verdict('').replace(/\.json$/, ''),
  envelopes: KEYS.envelope('').replace(/\.json$/, ''),
  outbox: KEYS.outboxPrefix,
  avDefinitions: KEYS.avDefinitionsPrefix,
} as const;

const { inbound, verdicts, envelopes, outbox, avDefinitions } = PREFIXES;

export interface BucketAccess {
  readonly read: readonly string[];
  readonly write: readonly string[];
  /** Prefixes the function lists (s3:ListBucket with an s3:prefix condition). */
  readonly list: readonly string[];
}

/**
 * Per function: the prefixes it may read, write and list. Reads of an absent key under a prefix
 * without ListBucket come back as 403, which the store treats as "absent".
 */
export const BUCKET_ACCESS = {
  ingest: { read: [], write: [envelopes], list: [] },
  // Parse and quarantine serve both workflows: inbound/ and outbox/ messages.
  parse: { read: [inbound, outbox], write: [], list: [] },
  'scan-auth': { read: [inbound], write: [], list: [] },
  'scan-content': { read: [inbound], write: [], list: [] },
  'scan-lists': { read: [inbound], write: [], list: [] },
  // The attachment and antivirus scanners serve both workflows too.
  'scan-attachments': { read: [inbound, outbox], write: [], list: [] },
  // The antivirus image: it also pulls the definitions (manifest first, so it needs no ListBucket).
  'scan-antivirus': { read: [inbound, outbox, avDefinitions], write: [], list: [] },
  // freshclam on a schedule: writes the definitions and their manifest, reads the manifest to skip re-uploads.
  'av-definitions': { read: [avDefinitions], write: [avDefinitions], list: [] },
  decide: { read: [], write: [verdicts], list: [] },
  deliver: { read: [inbound], write: [], list: [] },
  quarantine: { read: [outbox, inbound], write: [], list: [] },
  // Held outbound mail (outbox/) is released through SES.
  release: { read: [inbound, outbox, verdicts, envelopes], write: [], list: [] },
  // Also reads what release reads: it retries deferred deliveries through the same path, and what
  // quarantine reads: it holds a message with no envelope. It writes envelopes when it re-ingests a
  // failed ingest event with the ingest logic. It lists nothing: the pending index is its work list.
  // It checks that a pending outbound submission (outbox/) is still stored before re-driving it.
  reconcile: { read: [inbound, outbox, verdicts, envelopes], write: [envelopes], list: [] },
  // Outbound: the smart host's submissions under outbox/.
  'scan-dlp': { read: [outbox], write: [], list: [] },
  'outbound-abuse': { read: [], write: [], list: [] },
  'outbound-decide': { read: [], write: [verdicts], list: [] },
  send: { read: [outbox], write: [], list: [] },
  block: { read: [], write: [], list: [] },
  submit: { read: [], write: [outbox, envelopes], list: [] },
  'outbox-ingest': { read: [outbox], write: [envelopes], list: [] },
} as const satisfies Record<string, BucketAccess>;

export type FunctionName = keyof typeof BUCKET_ACCESS;
