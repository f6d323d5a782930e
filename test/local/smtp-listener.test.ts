import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoClient, createS3Client } from '../../lambdas/adapters/aws/aws-clients.ts';
import { DynamoPendingIndex } from '../../lambdas/adapters/aws/dynamo-pending-index.ts';
import { S3MessageStore } from '../../lambdas/adapters/aws/s3-message-store.ts';
import { RecordingLogger } from '../../lambdas/adapters/local/observability.ts';
import { parseConfig } from '../../lambdas/config/load-config.ts';
import { KEYS } from '../../lambdas/handlers/deps.ts';
import { createEnvelopeRecorder, createIngestHandler } from '../../lambdas/handlers/ingest.ts';
import { connectionFrom } from '../../lambdas/handlers/parse.ts';
import { type EmbeddedAws, startEmbeddedAws } from '../../lambdas/local/embedded-aws.ts';
import {
  newMessageId,
  receivedHeader,
  type SesLambdaEvent,
  type SmtpListener,
  startSmtpListener,
} from '../../lambdas/local/smtp-listener.ts';
import type { WorkflowInput } from '../../lambdas/ports/index.ts';

const config = parseConfig({
  domains: [
    { name: 'example.com', route: { host: 'mail.example.com', port: 587 } },
    {
      name: 'strict.example.org',
      route: { host: 'mail.example.org', port: 587 },
      recipients: ['ceo@strict.example.org'],
    },
  ],
});
const message = 'From: a@sender.test\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nhello\r\n';

async function send(port: number, to: string[], raw = message) {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, ignoreTLS: true });
  try {
    return await transport.sendMail({ envelope: { from: 'a@sender.test', to }, raw });
  } finally {
    transport.close();
  }
}

describe('receivedHeader', () => {
  it('writes the SES form that the parse handler reads the client from', () => {
    const field = receivedHeader({
      helo: 'mail.sender.test',
      ip: '::ffff:192.0.2.7',
      serverName: 'inbound.local',
      messageId: 'abc123',
      recipient: 'b@example.com',
      date: new Date('2026-11-28T10:00:00Z'),
    });
    expect(field.replace(/\r\n\s+/g, ' ')).toBe(
      'Received: from mail.sender.test (192.0.2.7 [192.0.2.7]) by inbound.local with SMTP id abc123 for b@example.com; Sat, 28 Nov 2026 10:00:00 +0000 (UTC)\r\n',
    );
    const value = field.slice('Received:'.length).trim();
    expect(connectionFrom({ headers: [['received', value]] })).toEqual({
      helo: 'mail.sender.test',
      remoteIp: '192.0.2.7',
    });
  });
});

describe('newMessageId', () => {
  it('makes 40-character lowercase alphanumeric ids, like SES', () => {
    expect(newMessageId()).toMatch(/^[a-z0-9]{40}$/);
    expect(newMessageId()).not.toBe(newMessageId());
  });
});

describe('startSmtpListener', () => {
  let dataDir: string;
  let aws: EmbeddedAws;
  let store: S3MessageStore;
  let listener: SmtpListener;
  let pending: DynamoPendingIndex;
  let recordEnvelope: (event: SesLambdaEvent) => Promise<void>;
  const events: SesLambdaEvent[] = [];
  const started: WorkflowInput[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'seg-listener-'));
    aws = await startEmbeddedAws({ dataDir, publish: false });
    const { endpoints } = aws;
    store = new S3MessageStore({
      client: createS3Client({
        endpoint: endpoints.s3,
        region: endpoints.region,
        credentials: endpoints.credentials,
      }),
      bucket: endpoints.bucket,
    });
    pending = new DynamoPendingIndex({
      client: createDynamoClient({
        endpoint: endpoints.dynamodb,
        region: endpoints.region,
        credentials: endpoints.credentials,
      }),
      tableName: endpoints.ledgerTable,
    });
    recordEnvelope = createEnvelopeRecorder({ bucket: endpoints.bucket, store, pending });
    // The real ingest handler: it validates the event shape SES sends.
    const ingest = createIngestHandler({
      logger: new RecordingLogger(),
      bucket: endpoints.bucket,
      store,
      pending,
      starter: {
        start: async (input) => {
          started.push(input);
          return { executionId: `x-${input.messageId}` };
        },
      },
    });
    listener = await startSmtpListener({
      config,
      store,
      recordEnvelope: (event) => recordEnvelope(event),
      port: 0,
      ingest: async (event) => {
        events.push(event);
        return ingest(event);
      },
      ingestRetryMs: 0,
    });
  });

  afterAll(async () => {
    await listener?.close();
    await aws?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('stores the envelope, its pending entry and the message before answering 250, then ingests it', async () => {
    let ingested = false;
    const slow = await startSmtpListener({
      config,
      store,
      recordEnvelope: (event) => recordEnvelope(event),
      port: 0,
      // An ingest that never gets to run: what a crash right after the reply leaves.
      ingest: async () => {
        ingested = true;
      },
    });
    try {
      const info = await send(slow.port, ['hidden@example.com']);
      const id = /queued as ([a-z0-9]+)/.exec(info.response)?.[1] ?? '';
      const envelope = JSON.parse(Buffer.from(await store.get(KEYS.envelope(id))).toString('utf8'));
      expect(envelope.envelope).toEqual({ mailFrom: 'a@sender.test', recipients: ['hidden@example.com'] });
      const due = await pending.due(new Date(Date.now() + 86_400_000), 1_000);
      expect(due.map((d) => d.messageId)).toContain(id);
      expect(await store.exists(KEYS.inbound(id))).toBe(true);
      await slow.drain();
      expect(ingested).toBe(true);
    } finally {
      await slow.close();
    }
  });

  it('stores the message with its Received header, naming no recipient when there are several (no Bcc disclosure)', async () => {
    const info = await send(listener.port, ['b@example.com', 'ceo@strict.example.org']);
    const id = /queued as ([a-z0-9]+)/.exec(info.response)?.[1] ?? '';
    const stored = Buffer.from(await store.get(KEYS.inbound(id))).toString('latin1');
    expect(stored).toMatch(
      /^Received: from \S+ \(127\.0\.0\.1 \[127\.0\.0\.1\]\)\r\n by \S+ with SMTP id [a-z0-9]{40};/,
    );
    expect(stored.slice(0, stored.indexOf('\r\nFrom:'))).not.toContain('example.com');
    expect(stored.endsWith(message)).toBe(true);

    await listener.drain();
    const input = started.find((s) => s.messageId === id);
    expect(input?.envelope).toEqual({
      mailFrom: 'a@sender.test',
      recipients: ['b@example.com', 'ceo@strict.example.org'],
    });
    expect(input?.ses).toMatchObject({ spam: 'DISABLED', virus: 'DISABLED', spf: 'DISABLED' });
    const event = events.find((e) => e.Records[0]?.ses.mail.messageId === id);
    expect(event?.Records[0]?.ses.mail.destination).toEqual(['b@example.com']);
  });

  it('refuses a recipient outside a domain recipients list with 550 5.7.1', async () => {
    const error = await send(listener.port, ['intern@strict.example.org']).catch((e: unknown) => e);
    expect(error).toMatchObject({ responseCode: 550 });
    expect(String((error as { response: string }).response)).toContain('5.7.1');
  });

  it('still answers 250 when ingest keeps failing, retries it twice like Lambda, and hands over the event', async () => {
    let calls = 0;
    const failed: string[] = [];
    const events: SesLambdaEvent[] = [];
    const flaky = await startSmtpListener({
      config,
      store,
      recordEnvelope: (event) => recordEnvelope(event),
      port: 0,
      ingestRetryMs: 0,
      ingest: async () => {
        calls++;
        throw new Error('ingest down');
      },
      onIngestFailed: async (id, _error, event) => {
        // drain() waits for this: Lambda's on-failure destination must have the event before it ends.
        await new Promise((r) => setTimeout(r, 10));
        failed.push(id);
        events.push(event);
      },
    });
    try {
      const info = await send(flaky.port, ['b@example.com']);
      const id = /queued as ([a-z0-9]+)/.exec(info.response)?.[1] ?? '';
      await flaky.drain();
      expect(calls).toBe(3);
      expect(failed).toEqual([id]);
      expect(events[0]?.Records[0]?.ses.mail.messageId).toBe(id);
      expect(events[0]?.Records[0]?.ses.receipt.recipients).toEqual(['b@example.com']);
      // The message stays stored for the reconciler.
      expect((await store.get(KEYS.inbound(id))).byteLength).toBeGreaterThan(0);
    } finally {
      await flaky.close();
    }
  });

  it('answers 451 when the message cannot be stored, so the client keeps it', async () => {
    const deadStore = new S3MessageStore({
      client: createS3Client({
        endpoint: 'http://127.0.0.1:9',
        credentials: aws.endpoints.credentials,
        region: 'us-east-1',
      }),
      bucket: 'nowhere',
    });
    const broken = await startSmtpListener({
      config,
      store: deadStore,
      recordEnvelope: createEnvelopeRecorder({ bucket: 'nowhere', store: deadStore, pending }),
      port: 0,
      ingest: async () => undefined,
    });
    try {
      const error = await send(broken.port, ['b@example.com']).catch((e: unknown) => e);
      expect(error).toMatchObject({ responseCode: 451 });
    } finally {
      await broken.close();
    }
  });
});
