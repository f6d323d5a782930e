// The handlers end to end with the real AWS SDK against s3rver and dynalite and a real SMTP sink:
// ingest -> parse -> scans -> decide -> deliver | quarantine, release and the reconciler, driven the
// way the workflow drives them (each handler's output fed to the next as the ASL paths do).

import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoLedger } from '../../lambdas/adapters/aws/dynamo-ledger.ts';
import { DynamoPendingIndex } from '../../lambdas/adapters/aws/dynamo-pending-index.ts';
import { DynamoQuarantineStore } from '../../lambdas/adapters/aws/dynamo-quarantine-store.ts';
import { S3MessageStore } from '../../lambdas/adapters/aws/s3-message-store.ts';
import { SmtpMailer } from '../../lambdas/adapters/aws/smtp-mailer.ts';
import { createTables } from '../../lambdas/adapters/aws/table-schemas.ts';
import { FolderFailedIngestQueue } from '../../lambdas/adapters/local/folder-failed-ingests.ts';
import { CountingMetrics, RecordingLogger } from '../../lambdas/adapters/local/observability.ts';
import { parseConfig } from '../../lambdas/config/load-config.ts';
import type { SegConfig } from '../../lambdas/config/schema.ts';
import type { ScanResult } from '../../lambdas/engine/types.ts';
import {
  MalformedEventError,
  PermanentDeliveryError,
  TransientDeliveryError,
  TransientError,
} from '../../lambdas/errors.ts';
import { BUCKET_ACCESS, type FunctionName } from '../../lambdas/handlers/access.ts';
import { createDecideHandler } from '../../lambdas/handlers/decide.ts';
import { createDeliverHandler } from '../../lambdas/handlers/deliver.ts';
import { type HandlerDeps, KEYS } from '../../lambdas/handlers/deps.ts';
import { splitMessage } from '../../lambdas/handlers/header-block.ts';
import { createIngestHandler, recordAccepted } from '../../lambdas/handlers/ingest.ts';
import { createParseHandler } from '../../lambdas/handlers/parse.ts';
import { createQuarantineHandler } from '../../lambdas/handlers/quarantine.ts';
import { createReconcileHandler } from '../../lambdas/handlers/reconcile.ts';
import { createReleaseHandler } from '../../lambdas/handlers/release.ts';
import { createScanHandler } from '../../lambdas/handlers/scan.ts';
import type { DecidedState, MessageStore, WorkflowInput } from '../../lambdas/ports/index.ts';
import { type LocalAws, startLocalAws } from '../support/local-aws.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';

const fixture = (name: string) => new URL(`../fixtures/handlers/${name}`, import.meta.url);
const eml = (name: string) => new Uint8Array(readFileSync(fixture(name)));

/** A DNS that knows nothing: authentication scanners answer *_NONE without the network. */
const noDns = async (name: string): Promise<never> => {
  throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
};

/** The SES Lambda-action event for `messageId`, with the receipt (envelope) recipients given. */
function sesEvent(messageId: string, recipients: string[], receipt: Record<string, unknown> = {}) {
  const event = JSON.parse(readFileSync(fixture('ses-lambda-event.json'), 'utf8'));
  event.Records[0].ses.mail.messageId = messageId;
  // Received now, so age-based rules (queue lifetime, retention) see a fresh message on any day.
  event.Records[0].ses.mail.timestamp = new Date().toISOString();
  Object.assign(event.Records[0].ses.receipt, { recipients, ...receipt });
  return event;
}

/** Lambda errors reach the Catch state as {Error, Cause} with Cause the error JSON. */
const statesError = (error: Error) => ({
  Error: error.name,
  Cause: JSON.stringify({ errorType: error.name, errorMessage: error.message }),
});

let aws: LocalAws;
let sink: SmtpSink;
let config: SegConfig;
let deps: HandlerDeps;
const started: WorkflowInput[] = [];
const logger = new RecordingLogger();
const metrics = new CountingMetrics();
/** What the sink answers queued*@ recipients: the deferred-delivery tests change it as they go. */
let queuedReply = 451;
/** The local ingest failure queue's folder (the reconcile tests fill it). */
let failuresDir: string;

beforeAll(async () => {
  failuresDir = await mkdtemp(join(tmpdir(), 'seg-ingest-failures-'));
  aws = await startLocalAws();
  sink = await startSmtpSink({
    reply: (rcpt) =>
      rcpt.startsWith('queued')
        ? queuedReply
        : rcpt.startsWith('tempfail')
          ? 451
          : rcpt.startsWith('nobody')
            ? 550
            : 250,
  });
  config = parseConfig({
    domains: [
      { name: 'example.com', route: { host: '127.0.0.1', port: sink.port } },
      { name: 'example.org', route: { host: '127.0.0.1', port: sink.port } },
    ],
  });
  const clock = () => new Date();
  deps = {
    config,
    bucket: aws.bucket,
    store: new S3MessageStore({ client: aws.s3, bucket: aws.bucket }),
    quarantine: new DynamoQuarantineStore({ client: aws.dynamo, tableName: aws.tables.quarantine, clock }),
    ledger: new DynamoLedger({ client: aws.dynamo, tableName: aws.tables.ledger, clock }),
    pending: new DynamoPendingIndex({ client: aws.dynamo, tableName: aws.tables.ledger }),
    mailer: new SmtpMailer({ domains: config.domains, allowPlain: true }),
    starter: {
      async start(input) {
        started.push(input);
        return { executionId: `exec-${started.length}` };
      },
    },
    failedIngests: new FolderFailedIngestQueue(failuresDir, logger),
    resolver: noDns,
    clock,
    logger,
    metrics,
  };
});

/** Every bucket access a handler makes, as [function, operation, key]. */
const accesses: [FunctionName, 'read' | 'write' | 'list', string][] = [];

/** The store as seen by one function: every access is recorded for the bucket-access check. */
function recording(fn: FunctionName, store: MessageStore): MessageStore {
  return {
    get(key) {
      accesses.push([fn, 'read', key]);
      return store.get(key);
    },
    exists(key) {
      accesses.push([fn, 'read', key]);
      return store.exists(key);
    },
    put(key, body, type) {
      accesses.push([fn, 'write', key]);
      return store.put(key, body, type);
    },
    list(prefix) {
      accesses.push([fn, 'list', prefix]);
      return store.list(prefix);
    },
  };
}

/** The deps one function gets. */
const as = (fn: FunctionName): HandlerDeps => ({ ...deps, store: recording(fn, deps.store) });

afterAll(async () => {
  await sink?.stop();
  await aws?.stop();
  if (failuresDir) await rm(failuresDir, { recursive: true, force: true });
});

beforeEach(() => {
  sink.messages.length = 0;
});

/** Stores the raw message as the SES S3 action would, then runs ingest and the steps up to Decide. */
async function receive(messageId: string, file: string, recipients: string[]): Promise<DecidedState> {
  await deps.store.put(KEYS.inbound(messageId), eml(file));
  await createIngestHandler(as('ingest'))(sesEvent(messageId, recipients));
  const input = started.at(-1);
  if (input?.messageId !== messageId) throw new Error('ingest did not start the workflow');
  const parse = await createParseHandler(as('parse'))(input);
  const scans: ScanResult[][] = await Promise.all(
    (['auth', 'content', 'lists', 'attachments'] as const).map((g) =>
      createScanHandler(g, as(`scan-${g}`))({ ...input, parse }),
    ),
  );
  return createDecideHandler(as('decide'))({ ...input, parse, scans });
}

const headerOf = (raw: Uint8Array, name: string) =>
  splitMessage(raw)
    .fields.filter((f) => f.name.toLowerCase() === name.toLowerCase())
    .map((f) => f.text.slice(f.name.length + 1).trim());

const bodyOf = (raw: Uint8Array) => {
  const text = Buffer.from(raw).toString('latin1');
  return text.slice(text.indexOf('\r\n\r\n'));
};

describe('ingest', () => {
  it('starts the workflow with the receipt recipients and stores the envelope', async () => {
    const result = await createIngestHandler(as('ingest'))(
      sesEvent('ingest-1', ['Alice@example.com', 'bcc@example.org'], {
        dmarcVerdict: { status: 'FAIL' },
        dmarcPolicy: 'reject',
      }),
    );
    expect(result.started).toEqual([{ messageId: 'ingest-1', executionId: `exec-${started.length}` }]);
    const input = started.at(-1);
    expect(input).toMatchObject({
      messageId: 'ingest-1',
      bucket: aws.bucket,
      key: 'inbound/ingest-1',
      envelope: { mailFrom: 'sender@sender.example', recipients: ['alice@example.com', 'bcc@example.org'] },
      ses: { spam: 'PASS', virus: 'PASS', dmarc: 'FAIL', dmarcPolicy: 'REJECT' },
      direction: 'inbound',
    });
    const stored = JSON.parse(Buffer.from(await deps.store.get(KEYS.envelope('ingest-1'))).toString('utf8'));
    expect(stored).toEqual(input);
  });

  it('ignores the SES setup notification', async () => {
    const before = started.length;
    const result = await createIngestHandler(as('ingest'))(
      sesEvent('AMAZON_SES_SETUP_NOTIFICATION', ['alice@example.com']),
    );
    expect(result).toEqual({ started: [], ignored: ['AMAZON_SES_SETUP_NOTIFICATION'] });
    expect(started).toHaveLength(before);
  });

  it('rejects a malformed event with a MalformedEventError naming the problem', async () => {
    const event = sesEvent('bad-1', []);
    await expect(createIngestHandler(as('ingest'))(event)).rejects.toThrow(MalformedEventError);
    await expect(createIngestHandler(as('ingest'))({ Records: [{ eventSource: 'aws:s3' }] })).rejects.toThrow(
      /not an SES receipt event: Records\.0\.eventSource/,
    );
  });
});

describe('parse', () => {
  it('returns a summary with the client from the topmost Received header, From and Subject, and stores nothing', async () => {
    await deps.store.put(KEYS.inbound('parse-1'), eml('plain-crlf.eml'));
    const before = accesses.length;
    const summary = await createParseHandler(as('parse'))({
      messageId: 'parse-1',
      bucket: aws.bucket,
      key: KEYS.inbound('parse-1'),
      envelope: { mailFrom: 'sender@sender.example', recipients: ['alice@example.com'] },
      receivedAt: new Date().toISOString(),
      direction: 'inbound',
    });
    expect(summary).toMatchObject({
      truncated: false,
      remoteIp: '203.0.113.7',
      helo: 'mail.sender.example',
      subject: 'Quarterly numbers',
    });
    expect(summary.from).toMatch(/@/);
    // One GET of the raw message; the scanners that read the parsed message parse it themselves.
    expect(accesses.slice(before)).toEqual([['parse', 'read', KEYS.inbound('parse-1')]]);
  });

  it('caps the summary it puts in the workflow state, however long the Subject and Received header', async () => {
    const long = 'x'.repeat(5000);
    const raw = `Received: from ${long} (rdns [203.0.113.9]) by mx\r\nFrom: ${long}@example.net\r\nSubject: ${long}\r\n\r\nbody\r\n`;
    await deps.store.put(KEYS.inbound('parse-long'), new TextEncoder().encode(raw));
    const summary = await createParseHandler(as('parse'))({
      messageId: 'parse-long',
      bucket: aws.bucket,
      key: KEYS.inbound('parse-long'),
      envelope: { mailFrom: '', recipients: ['alice@example.com'] },
      receivedAt: new Date().toISOString(),
      direction: 'inbound',
    });
    expect(summary.subject).toHaveLength(500);
    expect(summary.helo).toHaveLength(255);
    expect((summary.from ?? '').length).toBeLessThanOrEqual(500);
    expect(JSON.stringify(summary).length).toBeLessThan(4096);
  });

  it('throws a TransientError when the raw message is missing', async () => {
    await expect(
      createParseHandler(as('parse'))({
        messageId: 'parse-missing',
        bucket: aws.bucket,
        key: KEYS.inbound('parse-missing'),
        envelope: { mailFrom: '', recipients: ['alice@example.com'] },
        receivedAt: new Date().toISOString(),
        direction: 'inbound',
      }),
    ).rejects.toBeInstanceOf(TransientError);
  });
});

describe('handler logs and metrics', () => {
  it('logs the verdict of decide with its message id, action, score and symbols', async () => {
    const decided = await receive('logged-1', 'plain-crlf.eml', ['alice@example.com']);
    const line = logger.records.find((r) => r.message === 'decided' && r.fields.messageId === 'logged-1');
    expect(line?.fields).toMatchObject({
      action: decided.verdict.action,
      score: decided.verdict.score,
      symbols: decided.verdict.symbols,
    });
    expect(metrics.counts.get(`Messages/${decided.verdict.action}`)).toBeGreaterThan(0);
  });

  it('logs one disposition line per recipient deliver relays to, never the body', async () => {
    const decided = await receive('logged-2', 'plain-crlf.eml', ['alice@example.com', 'bob@example.org']);
    const before = metrics.counts.get('Dispositions/DELIVERED') ?? 0;
    await createDeliverHandler(as('deliver'))(decided);
    const lines = logger.records.filter(
      (r) => r.message === 'delivered' && r.fields.messageId === 'logged-2',
    );
    expect(lines.map((r) => r.fields.recipient).sort()).toEqual(['alice@example.com', 'bob@example.org']);
    expect(lines.every((r) => r.fields.status === 'DELIVERED')).toBe(true);
    expect(metrics.counts.get('Dispositions/DELIVERED')).toBe(before + 2);
    expect(JSON.stringify(logger.records)).not.toContain(bodyOf(eml('plain-crlf.eml')).trim().slice(0, 40));
  });

  it('logs a quarantine with its status and reason', async () => {
    const decided = await receive('logged-3', 'plain-crlf.eml', ['alice@example.com']);
    await createQuarantineHandler(as('quarantine'))({
      ...decided,
      verdict: { ...decided.verdict, reason: 'test hold' },
    });
    const line = logger.records.find((r) => r.message === 'quarantined' && r.fields.messageId === 'logged-3');
    expect(line?.fields).toMatchObject({
      recipient: 'alice@example.com',
      status: 'QUARANTINED',
      reason: 'test hold',
    });
  });

  it('logs a fail-safe quarantine at error level with the failing step', async () => {
    const decided = await receive('logged-4', 'plain-crlf.eml', ['alice@example.com']);
    const failure = statesError(new RangeError('scanner blew up'));
    await createQuarantineHandler(as('quarantine'))({ ...decided, failure });
    const line = logger.records.find((r) => r.fields.messageId === 'logged-4' && r.level === 'error');
    expect(line?.message).toBe('quarantined by fail-safe');
    expect(String(line?.fields.reason)).toContain('RangeError');
  });
});

describe('deliver', () => {
  it('relays to the envelope recipients with verdict headers and the body bytes unchanged', async () => {
    const decided = await receive('clean-1', 'plain-crlf.eml', ['alice@example.com', 'bob@example.org']);
    expect(decided.verdict.action).toBe('deliver');
    expect(decided.verdict.traceKey).toBe('verdicts/clean-1.json');
    expect(JSON.stringify(decided).length).toBeLessThan(16_000);

    const result = await createDeliverHandler(as('deliver'))(decided);
    expect([...result.delivered].sort()).toEqual(['alice@example.com', 'bob@example.org']);
    expect(sink.messages).toHaveLength(2);
    const recipients = sink.messages.flatMap((m) => m.envelope.to).sort();
    expect(recipients).toEqual(['alice@example.com', 'bob@example.org']);
    for (const m of sink.messages) {
      expect(m.envelope.from).toBe('sender@sender.example');
      expect(headerOf(m.raw, 'X-SEG-Verdict')).toEqual(['deliver']);
      expect(headerOf(m.raw, 'X-SEG-Score')).toHaveLength(1);
      expect(headerOf(m.raw, 'Authentication-Results')[0]).toMatch(/^example\.com; /);
      expect(bodyOf(m.raw)).toBe(bodyOf(eml('plain-crlf.eml')));
    }
    expect(await deps.ledger.get('clean-1')).toEqual({
      'alice@example.com': 'DELIVERED',
      'bob@example.org': 'DELIVERED',
    });
  });

  it('delivers once when the workflow runs Deliver twice', async () => {
    const decided = await receive('twice-1', 'plain-crlf.eml', ['alice@example.com']);
    await createDeliverHandler(as('deliver'))(decided);
    const again = await createDeliverHandler(as('deliver'))(decided);
    expect(again.delivered).toEqual([]);
    expect(again.skipped).toEqual([{ recipient: 'alice@example.com', state: 'DELIVERED' }]);
    expect(sink.messages).toHaveLength(1);
  });

  it('throws TransientDeliveryError on a 4xx reply and leaves the recipient claimable', async () => {
    const decided = await receive('temp-1', 'plain-crlf.eml', ['tempfail@example.com']);
    const error = await createDeliverHandler(as('deliver'))(decided).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientDeliveryError);
    expect((error as Error).name).toBe('TransientDeliveryError');
    expect(await deps.ledger.get('temp-1')).toEqual({ 'tempfail@example.com': 'CLAIMED' });
    expect(await deps.ledger.claim('temp-1', 'tempfail@example.com', 'deliver', 60_000)).toBe(true);
  });

  it('retries later instead of sending while another attempt holds a live claim', async () => {
    const decided = await receive('busy-1', 'plain-crlf.eml', ['alice@example.com']);
    expect(await deps.ledger.claim('busy-1', 'alice@example.com', 'deliver', 60_000)).toBe(true);
    await expect(createDeliverHandler(as('deliver'))(decided)).rejects.toThrow(TransientDeliveryError);
    await expect(createQuarantineHandler(as('quarantine'))(decided)).rejects.toThrow(TransientError);
    expect(sink.messages).toHaveLength(0);
  });

  it('settles the accepted recipient when the server refuses another, and retries only the refused one', async () => {
    const decided = await receive('partial-1', 'plain-crlf.eml', [
      'alice@example.com',
      'tempfail@example.com',
    ]);
    const deliver = createDeliverHandler(as('deliver'));
    await expect(deliver(decided)).rejects.toThrow(TransientDeliveryError);
    expect(await deps.ledger.get('partial-1')).toEqual({
      'alice@example.com': 'DELIVERED',
      'tempfail@example.com': 'CLAIMED',
    });
    await expect(deliver(decided)).rejects.toThrow(/tempfail@example\.com/);
    expect(sink.messages.map((m) => m.envelope.to)).toEqual([['alice@example.com']]);
  });

  it('throws PermanentDeliveryError on a 5xx reply; the DeliveryFailed step quarantines it', async () => {
    const decided = await receive('perm-1', 'plain-crlf.eml', ['nobody@example.com']);
    const error = (await createDeliverHandler(as('deliver'))(decided).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect(error.name).toBe('PermanentDeliveryError');

    const result = await createQuarantineHandler(as('quarantine'))({
      ...decided,
      deliveryFailure: statesError(error),
    });
    expect(result).toMatchObject({ status: 'DELIVERY_FAILED', quarantined: ['nobody@example.com'] });
    const item = await deps.quarantine.get('perm-1', 'nobody@example.com');
    expect(item).toMatchObject({
      status: 'DELIVERY_FAILED',
      subject: 'Quarterly numbers',
      messageKey: 'inbound/perm-1',
    });
    expect(item?.reason).toMatch(/^delivery failed: PermanentDeliveryError: .*550/);
    expect(await deps.ledger.get('perm-1')).toEqual({ 'nobody@example.com': 'DELIVERY_FAILED' });

    // A release that fails again leaves the message releasable, in the state it was in.
    const release = createReleaseHandler(as('release'));
    await expect(release({ messageId: 'perm-1', recipient: 'nobody@example.com' })).rejects.toThrow(
      PermanentDeliveryError,
    );
    expect(await deps.ledger.get('perm-1')).toEqual({ 'nobody@example.com': 'DELIVERY_FAILED' });
    expect((await deps.quarantine.get('perm-1', 'nobody@example.com'))?.status).toBe('DELIVERY_FAILED');
  });
});

describe('quarantine', () => {
  it('holds a GTUBE message with its verdict and never delivers it', async () => {
    const decided = await receive('gtube-1', 'gtube.eml', ['alice@example.com']);
    expect(['quarantine', 'reject']).toContain(decided.verdict.action);
    expect(decided.verdict.symbols).toContain('GTUBE');

    const result = await createQuarantineHandler(as('quarantine'))(decided);
    expect(result.quarantined).toEqual(['alice@example.com']);
    const item = await deps.quarantine.get('gtube-1', 'alice@example.com');
    expect(item).toMatchObject({
      status: 'QUARANTINED',
      sender: 'spammer@spam.example',
      subject: 'Test spam',
      score: decided.verdict.score,
    });
    expect(item?.symbols.split(' ')).toContain('GTUBE');
    expect(item?.expiresAt).toBeGreaterThan(Date.now() / 1000 + 29 * 86_400);
    expect(sink.messages).toHaveLength(0);

    const again = await createQuarantineHandler(as('quarantine'))(decided);
    expect(again).toMatchObject({ quarantined: [], skipped: ['alice@example.com'] });
  });

  it('quarantines as fail-safe without a verdict, reading sender and subject from the raw headers', async () => {
    await deps.store.put(KEYS.inbound('failsafe-1'), eml('plain-crlf.eml'));
    const result = await createQuarantineHandler(as('quarantine'))({
      messageId: 'failsafe-1',
      bucket: aws.bucket,
      key: KEYS.inbound('failsafe-1'),
      envelope: { mailFrom: 'sender@sender.example', recipients: ['alice@example.com'] },
      receivedAt: new Date().toISOString(),
      direction: 'inbound',
      failure: { Error: 'States.Timeout', Cause: 'Parse timed out' },
    });
    expect(result.status).toBe('QUARANTINED');
    const item = await deps.quarantine.get('failsafe-1', 'alice@example.com');
    expect(item).toMatchObject({
      reason: 'fail-safe: States.Timeout: Parse timed out',
      score: 0,
      symbols: '',
      sender: 'Sender <sender@sender.example>',
      subject: 'Quarterly numbers',
    });
  });
});

describe('release', () => {
  it('delivers a quarantined message once, however often it is released', async () => {
    const decided = await receive('release-1', 'gtube.eml', ['alice@example.com']);
    await createQuarantineHandler(as('quarantine'))(decided);
    const release = createReleaseHandler(as('release'));

    const first = await release({ messageId: 'release-1', recipient: 'alice@example.com' });
    expect(first).toEqual({ released: true, messageId: 'release-1', recipient: 'alice@example.com' });
    const second = await release({ messageId: 'release-1', recipient: 'alice@example.com' });
    expect(second).toMatchObject({ released: false, reason: 'already delivered' });

    expect(sink.messages).toHaveLength(1);
    const [message] = sink.messages;
    expect(message?.envelope).toEqual({ from: 'sender@sender.example', to: ['alice@example.com'] });
    expect(headerOf(message?.raw ?? new Uint8Array(), 'X-SEG-Verdict')).toEqual([decided.verdict.action]);
    expect(headerOf(message?.raw ?? new Uint8Array(), 'X-SEG-Released')).toHaveLength(1);
    expect((await deps.quarantine.get('release-1', 'alice@example.com'))?.status).toBe('RELEASED');
    expect(await deps.ledger.get('release-1')).toEqual({ 'alice@example.com': 'DELIVERED' });
  });

  it('refuses a message that is not in quarantine', async () => {
    const result = await createReleaseHandler(as('release'))({
      messageId: 'never-seen',
      recipient: 'alice@example.com',
    });
    expect(result).toMatchObject({ released: false, reason: 'not in quarantine' });
  });
});

describe('reconcile', () => {
  /** A bucket and ledger of its own, so other tests' pending entries do not show up here. */
  async function isolated(name: string) {
    await aws.s3.send(new CreateBucketCommand({ Bucket: name }));
    await createTables(aws.dynamo, { quarantine: `${name}-q`, ledger: `${name}-l` });
    const store = new S3MessageStore({ client: aws.s3, bucket: name });
    const ledger = new DynamoLedger({ client: aws.dynamo, tableName: `${name}-l` });
    const pending = new DynamoPendingIndex({ client: aws.dynamo, tableName: `${name}-l` });
    const quarantine = new DynamoQuarantineStore({ client: aws.dynamo, tableName: `${name}-q` });
    const redriven: WorkflowInput[] = [];
    const local: HandlerDeps = {
      ...deps,
      bucket: name,
      store: recording('reconcile', store),
      ledger,
      pending,
      quarantine,
      starter: {
        async start(input) {
          redriven.push(input);
          return { executionId: `redrive-${redriven.length}` };
        },
      },
    };
    /** What ingest (or the local listener) records for an accepted message. */
    const accept = async (
      id: string,
      recipients: string[],
      options: { raw?: boolean; envelope?: boolean } = {},
    ) => {
      const input: WorkflowInput = {
        messageId: id,
        bucket: name,
        key: KEYS.inbound(id),
        envelope: { mailFrom: 'sender@sender.example', recipients },
        receivedAt: new Date().toISOString(),
        direction: 'inbound',
      };
      if (options.envelope !== false) await recordAccepted(local, input);
      else await pending.add(id, input.receivedAt, input.receivedAt);
      if (options.raw !== false) await store.put(input.key, eml('plain-crlf.eml'));
      return input;
    };
    const reconcile = (minutesLater: number, limits: Parameters<typeof createReconcileHandler>[1] = {}) =>
      createReconcileHandler(
        { ...local, clock: () => new Date(Date.now() + minutesLater * 60_000) },
        limits,
      )();
    return { store, ledger, pending, quarantine, redriven, accept, reconcile };
  }

  it('re-drives an orphan with its stored envelope (Bcc-only recipient), with backoff, and clears disposed and never-stored entries', async () => {
    const { ledger, pending, redriven, accept, reconcile } = await isolated('seg-reconcile');
    // The message's To header names alice@; its only envelope recipient is a Bcc.
    const orphan = await accept('orphan-1', ['bcc-only@example.com']);
    await accept('done-1', ['alice@example.com']);
    await ledger.claim('done-1', 'alice@example.com', 'deliver', 60_000);
    await ledger.settle('done-1', 'alice@example.com', 'DELIVERED');
    // The listener died between the envelope and the message: no 250 was given.
    await accept('never-stored-1', ['alice@example.com'], { raw: false });

    expect((await reconcile(1)).redriven).toEqual([]);
    const result = await reconcile(20);
    expect(result.redriven).toEqual([{ messageId: 'orphan-1', redrives: 1 }]);
    expect(redriven).toEqual([orphan]);
    expect([...result.cleared].sort()).toEqual(['done-1', 'never-stored-1']);
    expect((await pending.due(new Date(Date.now() + 86_400_000), 10)).map((p) => p.messageId)).toEqual([
      'orphan-1',
    ]);

    // Backoff: not again in the same quarter hour, again once it is due.
    expect((await reconcile(25)).redriven).toEqual([]);
    expect((await reconcile(36)).redriven).toEqual([{ messageId: 'orphan-1', redrives: 2 }]);
    expect(redriven.every((r) => r.envelope.recipients.join() === 'bcc-only@example.com')).toBe(true);
  });

  it('holds a message with no envelope for postmaster with the reason, and never sends it to its To/Cc', async () => {
    const { quarantine, redriven, accept, reconcile } = await isolated('seg-reconcile-noenv');
    await accept('headers-only-1', [], { envelope: false });
    const result = await reconcile(20);
    expect(result.redriven).toEqual([]);
    expect(redriven).toEqual([]);
    expect(result.heldWithoutEnvelope).toEqual(['headers-only-1']);
    expect(await quarantine.get('headers-only-1', 'alice@example.com')).toBeUndefined();
    const held = await quarantine.get('headers-only-1', 'postmaster@example.com');
    expect(held).toMatchObject({ status: 'QUARANTINED' });
    expect(held?.reason).toContain('no SMTP envelope');
    expect((await reconcile(40)).heldWithoutEnvelope).toEqual([]);
  });

  it('reaches orphans whose keys sort after more stored messages than one run examines', async () => {
    const { store, redriven, accept, reconcile } = await isolated('seg-reconcile-many');
    // 260 disposed messages under inbound/ that sort first, then three orphans that sort last.
    const body = eml('plain-crlf.eml');
    for (let i = 0; i < 260; i += 20) {
      await Promise.all(
        Array.from({ length: 20 }, (_, j) =>
          store.put(KEYS.inbound(`a-${String(i + j).padStart(4, '0')}`), body),
        ),
      );
    }
    for (const id of ['zzz-1', 'zzz-2', 'zzz-3']) await accept(id, [`${id}@example.com`]);
    const result = await reconcile(20, { maxExamined: 100 });
    expect(result.redriven.map((r) => r.messageId).sort()).toEqual(['zzz-1', 'zzz-2', 'zzz-3']);
    expect(redriven).toHaveLength(3);
  });
});

describe('reconcile: failed ingests', () => {
  const bucket = 'seg-reingest';
  const store = () => new S3MessageStore({ client: aws.s3, bucket });
  const queue = () => new FolderFailedIngestQueue(failuresDir, logger);
  /** The reconciler `minutesLater` (at 20 the orphan scan sees the message too) with this starter. */
  const reconcileWith = (starter: HandlerDeps['starter'], minutesLater: number) =>
    createReconcileHandler({
      ...deps,
      bucket,
      store: recording('reconcile', store()),
      starter,
      clock: () => new Date(Date.now() + minutesLater * 60_000),
    })();

  beforeAll(async () => {
    await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  it('re-ingests a failed ingest event with its real envelope, starts it once and removes the record', async () => {
    // The message was stored by SES; its ingest failed every retry, so no envelope and no workflow.
    await store().put(KEYS.inbound('reingest-1'), eml('plain-crlf.eml'));
    // Bcc: the SMTP envelope names a recipient that no header does.
    await queue().record(
      'reingest-1',
      sesEvent('reingest-1', ['alice@example.com', 'hidden-bcc@example.com']),
    );

    const starts: WorkflowInput[] = [];
    const result = await reconcileWith(
      {
        async start(input) {
          starts.push(input);
          return { executionId: `reingest-${starts.length}` };
        },
      },
      20,
    );

    expect(result.reingested).toEqual(['reingest-1']);
    expect(result.redriven.map((r) => r.messageId)).not.toContain('reingest-1');
    const mine = starts.filter((s) => s.messageId === 'reingest-1');
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      bucket,
      key: KEYS.inbound('reingest-1'),
      envelope: { recipients: ['alice@example.com', 'hidden-bcc@example.com'] },
    });
    expect(mine[0]?.envelopeFromHeaders).toBeUndefined();
    const stored = JSON.parse(Buffer.from(await store().get(KEYS.envelope('reingest-1'))).toString('utf8'));
    expect(stored.envelope.recipients).toEqual(['alice@example.com', 'hidden-bcc@example.com']);
    expect(await readdir(failuresDir)).toEqual([]);
  });

  it('leaves a failed ingest that fails again, and an unreadable record, in the queue', async () => {
    await store().put(KEYS.inbound('reingest-2'), eml('plain-crlf.eml'));
    await queue().record('reingest-2', sesEvent('reingest-2', ['alice@example.com']));
    await writeFile(join(failuresDir, 'garbled.json'), '{"requestPayload": ');

    // Now, not 20 minutes on: the orphan scan leaves the young message alone and starts nothing.
    const result = await reconcileWith(
      { start: () => Promise.reject(new TransientError('state machine unavailable')) },
      0,
    );

    expect(result.reingested).toEqual([]);
    expect(result.reingestFailed).toEqual(['reingest-2.json']);
    expect((await readdir(failuresDir)).sort()).toEqual(['garbled.json', 'reingest-2.json']);
    expect(logger.records).toContainEqual(
      expect.objectContaining({ level: 'warn', fields: expect.objectContaining({ id: 'garbled.json' }) }),
    );
    await rm(join(failuresDir, 'garbled.json'));
    await rm(join(failuresDir, 'reingest-2.json'));
  });

  it('counts a re-ingest whose record cannot be deleted as re-ingested and logs it for the next run', async () => {
    await store().put(KEYS.inbound('reingest-3'), eml('plain-crlf.eml'));
    const starts: string[] = [];
    const result = await createReconcileHandler({
      ...deps,
      bucket,
      store: recording('reconcile', store()),
      starter: {
        async start(input) {
          starts.push(input.messageId);
          return { executionId: `reingest-3-${starts.length}` };
        },
      },
      failedIngests: {
        receive: async () => [
          {
            id: 'sqs-message-3',
            event: sesEvent('reingest-3', ['alice@example.com']),
            ack: () => Promise.reject(new Error('DeleteMessage throttled')),
          },
        ],
      },
      clock: () => new Date(Date.now() + 20 * 60_000),
    })();

    expect(result.reingested).toEqual(['reingest-3']);
    expect(result.reingestFailed).toEqual([]);
    expect(starts.filter((id) => id === 'reingest-3')).toHaveLength(1);
    expect(logger.records).toContainEqual(
      expect.objectContaining({
        message: 'ingested but not removed from the queue',
        fields: expect.objectContaining({ id: 'sqs-message-3', error: 'DeleteMessage throttled' }),
      }),
    );
  });
});

describe('reconcile: arrival notices (a stored message whose ingest never ran)', () => {
  const bucket = 'seg-arrivals';
  const store = () => new S3MessageStore({ client: aws.s3, bucket });
  let arrivalsDir: string;

  beforeAll(async () => {
    await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    arrivalsDir = await mkdtemp(join(tmpdir(), 'seg-arrivals-'));
  });
  afterAll(async () => {
    if (arrivalsDir) await rm(arrivalsDir, { recursive: true, force: true });
  });

  it('ingests a message only SES has seen, with its real envelope, and only acknowledges one already ingested', async () => {
    const arrivals = new FolderFailedIngestQueue(arrivalsDir, logger);
    // Stored by the S3 action, but the Lambda action never ran: no envelope, no pending entry.
    await store().put(KEYS.inbound('arrival-1'), eml('plain-crlf.eml'));
    await arrivals.record(
      'arrival-1',
      sesEvent('arrival-1', ['alice@example.com', 'hidden-bcc@example.com']),
    );
    // Ingested as usual: its notice is only acknowledged.
    await store().put(KEYS.inbound('arrival-2'), eml('plain-crlf.eml'));
    await store().put(KEYS.envelope('arrival-2'), JSON.stringify({ messageId: 'arrival-2' }));
    await arrivals.record('arrival-2', sesEvent('arrival-2', ['alice@example.com']));

    const starts: WorkflowInput[] = [];
    const result = await createReconcileHandler({
      ...deps,
      bucket,
      store: recording('reconcile', store()),
      arrivals,
      starter: {
        async start(input) {
          starts.push(input);
          return { executionId: `arrival-${starts.length}` };
        },
      },
    })();

    expect(result.recovered).toEqual(['arrival-1']);
    expect(starts.map((s) => [s.messageId, s.envelope.recipients])).toEqual([
      ['arrival-1', ['alice@example.com', 'hidden-bcc@example.com']],
    ]);
    expect(await store().exists(KEYS.envelope('arrival-1'))).toBe(true);
    // Both notices are done with: nothing is left for the next run.
    expect(await readdir(arrivalsDir)).toEqual([]);
  });
});

describe('deferred delivery', () => {
  const MINUTE_MS = 60_000;
  /** The scheduled reconciler `minutesLater`, retrying deferred deliveries only (no orphan scan). */
  const reconcileAt = (minutesLater: number) =>
    createReconcileHandler(
      {
        ...as('reconcile'),
        starter: { start: async () => ({ executionId: 'unused' }) },
        clock: () => new Date(Date.now() + minutesLater * MINUTE_MS),
      },
      { maxExamined: 0 },
    )();
  const sentTo = (recipient: string) => sink.messages.filter((m) => m.envelope.to.includes(recipient));

  /** Receives `id` for `recipient`, has the server answer 451 and runs Deliver's Catch -> Defer. */
  async function deferred(id: string, recipient: string) {
    queuedReply = 451;
    const decided = await receive(id, 'plain-crlf.eml', [recipient]);
    const error = (await createDeliverHandler(as('deliver'))(decided).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(TransientDeliveryError);
    // Received now (the SES event fixture carries a fixed time): the queue lifetime counts from here.
    const receivedAt = new Date().toISOString();
    return createQuarantineHandler(as('quarantine'))({
      ...decided,
      receivedAt,
      deferral: statesError(error),
    });
  }

  it('queues a 451 as DEFERRED, waits for nextAttemptAt, then delivers exactly once', async () => {
    const before = Date.now();
    const result = await deferred('defer-1', 'queued1@example.com');
    expect(result).toMatchObject({ status: 'DEFERRED', quarantined: ['queued1@example.com'] });
    const item = await deps.quarantine.get('defer-1', 'queued1@example.com');
    expect(item).toMatchObject({ status: 'DEFERRED', attempts: 1 });
    expect(item?.lastError).toMatch(/^TransientDeliveryError: .*451/);
    expect(Date.parse(item?.nextAttemptAt ?? '')).toBeGreaterThanOrEqual(before + 15 * MINUTE_MS);
    expect(await deps.ledger.get('defer-1')).toEqual({ 'queued1@example.com': 'DEFERRED' });

    queuedReply = 250;
    const early = await reconcileAt(5);
    expect(early.deferred.delivered).toEqual([]);
    expect(sentTo('queued1@example.com')).toEqual([]);
    expect((await deps.quarantine.get('defer-1', 'queued1@example.com'))?.attempts).toBe(1);

    const due = await reconcileAt(16);
    expect(due.deferred.delivered).toEqual(['defer-1/queued1@example.com']);
    await reconcileAt(24 * 60);
    const sent = sentTo('queued1@example.com');
    expect(sent).toHaveLength(1);
    expect(headerOf(sent[0]!.raw, 'X-SEG-Verdict')).toHaveLength(1);
    expect(headerOf(sent[0]!.raw, 'X-SEG-Released')).toEqual([]);
    expect(await deps.ledger.get('defer-1')).toEqual({ 'queued1@example.com': 'DELIVERED' });
    const done = await deps.quarantine.get('defer-1', 'queued1@example.com');
    expect(done).toMatchObject({ status: 'DELIVERED', attempts: 2 });
    expect(done?.nextAttemptAt).toBeUndefined();
  });

  it('backs off while the server stays down and holds a 550 on a retry as DELIVERY_FAILED', async () => {
    await deferred('defer-2', 'queued2@example.com');
    const retried = await reconcileAt(16);
    expect(retried.deferred.rescheduled).toEqual(['defer-2/queued2@example.com']);
    const item = await deps.quarantine.get('defer-2', 'queued2@example.com');
    expect(item?.attempts).toBe(2);
    // The second wait is twice the first.
    expect(Date.parse(item?.nextAttemptAt ?? '')).toBeGreaterThanOrEqual(Date.now() + 45 * MINUTE_MS);
    expect(await deps.ledger.get('defer-2')).toEqual({ 'queued2@example.com': 'DEFERRED' });

    queuedReply = 550;
    const refused = await reconcileAt(16 + 31);
    expect(refused.deferred.failed).toEqual(['defer-2/queued2@example.com']);
    const failed = await deps.quarantine.get('defer-2', 'queued2@example.com');
    expect(failed).toMatchObject({ status: 'DELIVERY_FAILED', attempts: 3 });
    expect(failed?.reason).toMatch(/^delivery failed: PermanentDeliveryError: .*550/);
    expect(await deps.ledger.get('defer-2')).toEqual({ 'queued2@example.com': 'DELIVERY_FAILED' });
    expect(sentTo('queued2@example.com')).toEqual([]);
  });

  it('gives up after delivery.maxQueueHours and says after how many attempts and hours', async () => {
    await deferred('defer-3', 'queued3@example.com');
    const late = await reconcileAt((config.delivery.maxQueueHours + 1) * 60);
    expect(late.deferred.failed).toEqual(['defer-3/queued3@example.com']);
    const item = await deps.quarantine.get('defer-3', 'queued3@example.com');
    expect(item?.status).toBe('DELIVERY_FAILED');
    expect(item?.reason).toMatch(/^gave up after 2 attempts over 121 hours: TransientDeliveryError: .*451/);
    expect(await deps.ledger.get('defer-3')).toEqual({ 'queued3@example.com': 'DELIVERY_FAILED' });
  });

  it('delivers a DEFERRED item at once when released, exactly once', async () => {
    await deferred('defer-4', 'queued4@example.com');
    queuedReply = 250;
    const release = createReleaseHandler(as('release'));
    const first = await release({ messageId: 'defer-4', recipient: 'queued4@example.com' });
    const second = await release({ messageId: 'defer-4', recipient: 'queued4@example.com' });
    expect(first).toMatchObject({ released: true });
    expect(second).toMatchObject({ released: false });
    const after = await reconcileAt(16);
    expect(after.deferred.delivered).toEqual([]);
    expect(sentTo('queued4@example.com')).toHaveLength(1);
    expect((await deps.quarantine.get('defer-4', 'queued4@example.com'))?.status).toBe('RELEASED');
    expect(await deps.ledger.get('defer-4')).toEqual({ 'queued4@example.com': 'DELIVERED' });
  });
});

describe('bucket access', () => {
  it('stays within the prefixes BUCKET_ACCESS declares for each function', () => {
    expect(accesses.length).toBeGreaterThan(20);
    const outside = accesses.filter(
      ([fn, op, key]) => !BUCKET_ACCESS[fn][op].some((p: string) => key.startsWith(p)),
    );
    expect(outside).toEqual([]);
  });
});
