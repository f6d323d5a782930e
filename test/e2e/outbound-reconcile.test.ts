// The safety net for outbound mail end to end: a submission stored whose outbound run never ran (the
// process died after storing it) is found through the pending index by the same reconcile handler the
// deployed schedule runs, re-driven into the outbound workflow and sent through the SES emulator once.
// A run that reaches its final disposition (sent, blocked) clears its pending entry.

import type { SendEmailCommandInput } from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECONCILE_MIN_AGE_MS } from '../../lambdas/handlers/reconcile.ts';
import { createSubmitHandler } from '../../lambdas/handlers/submit.ts';
import type { LocalGateway } from '../../lambdas/local/gateway.ts';
import { type SubmissionGateway, startSubmissionGateway } from '../support/submission-gateway.ts';

describe('outbound re-drive', () => {
  let served: SubmissionGateway;
  let gateway: LocalGateway;
  /** The Destination of every SES call: 'lost' for the re-driven message, 'other' for the rest. */
  const destinations = new Map<string, string[][]>();

  beforeAll(async () => {
    served = await startSubmissionGateway({ name: 'outbound-reconcile', allowedFrom: ['example.com'] });
    gateway = served.gateway;
    gateway.submission?.outbound.sesClient.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as SendEmailCommandInput;
        const raw = Buffer.from(input.Content?.Raw?.Data ?? []).toString('utf8');
        const id = /^Subject: Lost run/m.test(raw) ? 'lost' : 'other';
        destinations.set(id, [...(destinations.get(id) ?? []), [...(input.Destination?.ToAddresses ?? [])]]);
        return next(args);
      },
      { step: 'initialize' },
    );
  }, 60_000);

  afterAll(() => served?.close());

  const message = (subject: string, body: string) =>
    Buffer.from(
      `From: alice@example.com\r\nTo: bob@partner.example\r\nSubject: ${subject}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n${body}\r\n`,
    );
  const envelope = {
    mailFrom: 'alice@example.com',
    recipients: ['bob@partner.example', 'bcc@partner.example'],
  };
  const farFuture = () => new Date(Date.now() + 10 * RECONCILE_MIN_AGE_MS);
  const pendingIds = async () => (await gateway.deps.pending.due(farFuture(), 1000)).map((p) => p.messageId);
  const sentWith = async (subject: string) =>
    (await gateway.submission!.outbound.ses.emails()).filter((e) => e.subject === subject);

  it('re-drives a stored submission whose run never started and sends it once to its envelope recipients', async () => {
    const outbound = gateway.submission!.outbound;
    // As when the process dies between storing the submission and starting its run.
    const lost = createSubmitHandler({
      ...outbound.deps,
      outboundStarter: { start: async () => ({ executionId: 'lost' }) },
    });
    const { submissionId } = await lost({ raw: message('Lost run', 'hello'), envelope, submitter: 'alice' });
    await gateway.drain();
    expect(await sentWith('Lost run')).toEqual([]);
    expect(await pendingIds()).toContain(submissionId);

    // As after a restart: the process that accepted it is gone, so it is orphaned now.
    const result = await gateway.reconcile({ orphanedBefore: new Date().toISOString() });
    expect(result.redriven.map((r) => r.messageId)).toEqual([submissionId]);
    await gateway.drain();

    expect(await sentWith('Lost run')).toHaveLength(1);
    // The SES call went to the stored envelope, the Bcc recipient included.
    expect(destinations.get('lost')).toEqual([['bob@partner.example', 'bcc@partner.example']]);
    expect(await gateway.deps.ledger.get(submissionId)).toEqual({
      'bob@partner.example': 'SENT',
      'bcc@partner.example': 'SENT',
    });
    expect(await pendingIds()).not.toContain(submissionId);

    const again = await gateway.reconcile({ orphanedBefore: new Date().toISOString() });
    expect(again.redriven).toEqual([]);
    await gateway.drain();
    expect(await sentWith('Lost run')).toHaveLength(1);
  }, 60_000);

  it('clears the pending entry of a submission its run sent or blocked', async () => {
    const { submit } = gateway.submission!.outbound;
    const clean = await submit({ raw: message('Plain note', 'see you'), envelope, submitter: 'alice' });
    const card = await submit({
      raw: message('Card', 'card 5555 5555 5555 4444 exp 10/29'),
      envelope,
      submitter: 'alice',
    });
    await gateway.drain();
    expect(await gateway.deps.ledger.get(card.submissionId)).toMatchObject({
      'bob@partner.example': 'BLOCKED',
    });
    expect(await sentWith('Plain note')).toHaveLength(1);
    const pending = await pendingIds();
    expect(pending).not.toContain(clean.submissionId);
    expect(pending).not.toContain(card.submissionId);
  }, 60_000);
});
