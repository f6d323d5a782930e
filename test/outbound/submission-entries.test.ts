// The AWS submission entries' handlers: the HTTPS function URL body and the outbox/ S3 trigger, over
// an in-memory store and starter (the adapters are covered by the integration tests).

import { describe, expect, it } from 'vitest';
import { RecordingLogger } from '../../lambdas/adapters/local/observability.ts';
import { createOutboxIngestHandler } from '../../lambdas/handlers/outbox-ingest.ts';
import { createHttpsSubmitHandler } from '../../lambdas/handlers/submit-https.ts';
import type { MessageStore, WorkflowInput } from '../../lambdas/ports/index.ts';
import { testConfig } from '../engine/helpers.ts';

function fakes() {
  const objects = new Map<string, Uint8Array>();
  const started: WorkflowInput[] = [];
  const pending = new Map<string, { receivedAt: string; dueAt: string }>();
  const store: MessageStore = {
    get: async (key) => {
      const v = objects.get(key);
      if (!v) throw new Error(`no ${key}`);
      return v;
    },
    put: async (key, body) => {
      objects.set(key, typeof body === 'string' ? Buffer.from(body) : body);
    },
    list: async function* () {},
    exists: async (key: string) => objects.has(key),
  };
  const deps = {
    config: testConfig(),
    bucket: 'b',
    store,
    pending: {
      add: async (messageId: string, receivedAt: string, dueAt: string) => {
        pending.set(messageId, { receivedAt, dueAt });
      },
      remove: async (messageId: string) => {
        pending.delete(messageId);
      },
      due: async () => [],
      redriven: async () => undefined,
    },
    outboundStarter: {
      start: async (input: WorkflowInput) => {
        started.push(input);
        return { executionId: 'x' };
      },
    },
    clock: () => new Date('2026-11-30T12:00:00Z'),
    logger: new RecordingLogger(),
  };
  return { objects, started, pending, deps };
}

const MESSAGE =
  'From: alice@example.com\r\nTo: Bob <bob@partner.example>\r\nCc: carol@partner.example\r\nSubject: hi\r\n\r\nhello\r\n';

describe('HTTPS submission', () => {
  const signed = {
    requestContext: { authorizer: { iam: { userArn: 'arn:aws:iam::123456789012:user/app' } } },
  };

  it('stores the message under outbox/ and starts the workflow with the envelope and the signer', async () => {
    const { objects, started, pending, deps } = fakes();
    const body = JSON.stringify({
      mailFrom: 'alice@example.com',
      recipients: ['bob@partner.example', 'hidden@partner.example'],
      raw: Buffer.from(MESSAGE).toString('base64'),
    });
    const res = await createHttpsSubmitHandler(deps)({ ...signed, body });
    expect(res.statusCode).toBe(202);
    const { submissionId } = JSON.parse(res.body) as { submissionId: string };
    expect(Buffer.from(objects.get(`outbox/${submissionId}`) ?? []).toString()).toBe(MESSAGE);
    // Pending until its final disposition: the reconciler re-drives it 15 minutes on if its run died.
    expect(pending.get(submissionId)).toEqual({
      receivedAt: '2026-11-30T12:00:00.000Z',
      dueAt: '2026-11-30T12:15:00.000Z',
    });
    expect(started).toMatchObject([
      {
        messageId: submissionId,
        direction: 'outbound',
        submitter: 'arn:aws:iam::123456789012:user/app',
        envelope: {
          mailFrom: 'alice@example.com',
          recipients: ['bob@partner.example', 'hidden@partner.example'],
        },
      },
    ]);
  });

  it('answers 400 with the problem for a body without recipients, and starts nothing', async () => {
    const { started, deps } = fakes();
    const res = await createHttpsSubmitHandler(deps)({
      ...signed,
      body: JSON.stringify({ mailFrom: 'alice@example.com', recipients: [], raw: 'eA==' }),
    });
    expect([res.statusCode, res.body.includes('recipients')]).toEqual([400, true]);
    expect(started).toEqual([]);
  });

  it('answers 403 when the request carries no IAM identity', async () => {
    const { deps } = fakes();
    expect((await createHttpsSubmitHandler(deps)({ body: '{}' })).statusCode).toBe(403);
  });
});

describe('outbox ingest', () => {
  it('starts the workflow for a Mail Manager object with the header recipients, pending until disposed of', async () => {
    const { objects, started, pending, deps } = fakes();
    objects.set('outbox/smtp/abc123', Buffer.from(MESSAGE));
    await createOutboxIngestHandler(deps)({ Records: [{ s3: { object: { key: 'outbox/smtp/abc123' } } }] });
    expect(started).toMatchObject([
      {
        key: 'outbox/smtp/abc123',
        direction: 'outbound',
        envelope: {
          mailFrom: 'alice@example.com',
          recipients: ['bob@partner.example', 'carol@partner.example'],
        },
        envelopeFromHeaders: true,
      },
    ]);
    expect([...pending.keys()]).toEqual(['smtp_abc123']);
  });

  it("leaves out header recipients in the protected domains: the organisation's server delivered those", async () => {
    const { objects, started, pending, deps } = fakes();
    objects.set(
      'outbox/smtp/mixed1',
      Buffer.from(
        'From: alice@example.com\r\nTo: bob@partner.example, carol@example.com\r\nCc: Dave <dave@EXAMPLE.com>\r\nSubject: hi\r\n\r\nhello\r\n',
      ),
    );
    await createOutboxIngestHandler(deps)({ Records: [{ s3: { object: { key: 'outbox/smtp/mixed1' } } }] });
    expect(started.map((s) => s.envelope.recipients)).toEqual([['bob@partner.example']]);

    // Only internal recipients: no run, no pending entry.
    objects.set(
      'outbox/smtp/internal1',
      Buffer.from('From: alice@example.com\r\nTo: carol@example.com\r\n\r\nhi\r\n'),
    );
    const none = await createOutboxIngestHandler(deps)({
      Records: [{ s3: { object: { key: 'outbox/smtp/internal1' } } }],
    });
    expect(none.started).toEqual([]);
    expect(started).toHaveLength(1);
    expect(pending.has('smtp_internal1')).toBe(false);
  });

  it('refuses an event for a key outside outbox/', async () => {
    const { deps } = fakes();
    await expect(
      createOutboxIngestHandler(deps)({ Records: [{ s3: { object: { key: 'inbound/x' } } }] }),
    ).rejects.toMatchObject({ name: 'MalformedEventError' });
  });
});
