// The outbound workflow definition run by aws-local-stepfunctions over the real handlers, with s3rver,
// dynalite, the aws-ses-v2-local emulator and a real clamd (the antivirus branch): what is sent, blocked
// (with a notice), quarantined.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SendEmailCommandInput } from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SegConfig } from '../../lambdas/config/schema.ts';
import { createSubmitHandler } from '../../lambdas/handlers/submit.ts';
import { type EmbeddedAws, startEmbeddedAws } from '../../lambdas/local/embedded-aws.ts';
import { localDeps } from '../../lambdas/local/local-deps.ts';
import { type LocalOutbound, startLocalOutbound } from '../../lambdas/local/outbound-runtime.ts';
import { eml, testConfig } from '../engine/helpers.ts';
import { startTestClamd } from '../support/av-samples.ts';

const SENDER = 'alice@example.com';

describe('outbound workflow (local runtime)', () => {
  let dir: string;
  let aws: EmbeddedAws;
  let outbound: LocalOutbound;
  let deps: ReturnType<typeof localDeps>;
  let config: SegConfig;
  let clamd: Awaited<ReturnType<typeof startTestClamd>>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'seg-outbound-'));
    config = testConfig({ outbound: { abuse: { maxMessages: 1000, maxRecipients: 130 } } });
    aws = await startEmbeddedAws({ dataDir: dir, publish: false });
    clamd = await startTestClamd();
    deps = localDeps({
      antivirus: clamd.client,
      config,
      endpoints: aws.endpoints,
      dataDir: dir,
      starter: { start: () => Promise.reject(new Error('inbound')) },
    });
    outbound = await startLocalOutbound({ deps, endpoints: aws.endpoints, retryIntervalMs: 1 });
    // What the adapter hands SES, byte for byte (the emulator keeps only the parsed message).
    outbound.sesClient.middlewareStack.add(
      (next) => async (args) => {
        requests.push(args.input as SendEmailCommandInput);
        return next(args);
      },
      { step: 'initialize' },
    );
  }, 60_000);
  const requests: SendEmailCommandInput[] = [];

  afterAll(async () => {
    await outbound?.close();
    deps?.close();
    await aws?.stop();
    await clamd?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function submit(
    headers: Record<string, string>,
    body: string,
    recipients: string[],
    submitter = 'alice',
  ) {
    const { submissionId } = await outbound.submit({
      raw: Buffer.from(eml(headers, body)),
      envelope: { mailFrom: SENDER, recipients },
      submitter,
    });
    await outbound.drain();
    const record = [...outbound.workflow.executions.values()].find((e) => e.input.messageId === submissionId);
    return { submissionId, record };
  }

  it('sends a clean message through SES with the configuration set and seg headers, body unchanged', async () => {
    const before = (await outbound.ses.emails()).length;
    const headers = { From: `Alice <${SENDER}>`, To: 'bob@partner.example', Subject: 'Lunch on Friday?' };
    const body = 'Hi Bob,\n\nlunch on Friday at 12:30?\n\nAlice\n';
    const { record } = await submit(headers, body, ['bob@partner.example']);
    expect(record?.status).toBe('SUCCEEDED');
    const request = requests.at(-1);
    expect(request).toMatchObject({
      ConfigurationSetName: 'seg-outbound',
      FromEmailAddress: SENDER,
      Destination: { ToAddresses: ['bob@partner.example'] },
    });
    const raw = Buffer.from(request?.Content?.Raw?.Data ?? []).toString('utf8');
    // seg's headers, then the submitted message byte for byte.
    const ours =
      'X-SEG-Verdict: deliver\r\nX-SEG-Score: 0.00\r\nX-SEG-Symbols: none\r\nX-SEG-Direction: outbound\r\n';
    expect(raw).toBe(ours + eml(headers, body));
    const sent = (await outbound.ses.emails()).slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      from: `"Alice" <${SENDER}>`,
      subject: 'Lunch on Friday?',
      body: { text: 'Hi Bob,\n\nlunch on Friday at 12:30?\n\nAlice\n' },
    });
  });

  it('blocks a message carrying a card number, records it, and tells only the sender why', async () => {
    const before = (await outbound.ses.emails()).length;
    const { submissionId, record } = await submit(
      { From: SENDER, To: 'bob@partner.example', Subject: 'booking' },
      'Use the company card 4111 1111 1111 1111 exp 09/28.',
      ['bob@partner.example', 'carol@partner.example'],
    );
    expect(record?.status).toBe('SUCCEEDED');
    const sent = (await outbound.ses.emails()).slice(before);
    expect(sent.map((e) => e.destination.to)).toEqual([[SENDER]]);
    expect(sent[0]?.subject).toBe('Not sent: booking');
    expect(sent[0]?.body.text).toContain('DLP_CARD_NUMBER (visa ************1111 in text (1 found))');
    expect(JSON.stringify(sent)).not.toContain('4111 1111 1111 1111');
    const item = await deps.quarantine.get(submissionId, 'bob@partner.example');
    expect(item).toMatchObject({ status: 'BLOCKED', direction: 'outbound', symbols: 'DLP_CARD_NUMBER' });
    expect(JSON.stringify(item)).not.toContain('4111111111111111');
    expect(await deps.ledger.get(submissionId)).toMatchObject({
      'bob@partner.example': 'BLOCKED',
      'carol@partner.example': 'BLOCKED',
      'notice:sender': 'SENT',
    });
  });

  it('quarantines a message whose finding the policy quarantines (an IBAN), with direction outbound', async () => {
    const before = (await outbound.ses.emails()).length;
    const { submissionId } = await submit(
      { From: SENDER, To: 'bob@partner.example', Subject: 'invoice' },
      'Please pay to DE89 3704 0044 0532 0130 00.',
      ['bob@partner.example'],
    );
    expect((await outbound.ses.emails()).slice(before)).toEqual([]);
    expect(await deps.quarantine.get(submissionId, 'bob@partner.example')).toMatchObject({
      status: 'QUARANTINED',
      direction: 'outbound',
      symbols: 'DLP_IBAN',
    });
  });

  it('blocks a From that is not a verified identity before SES refuses it', async () => {
    const { submissionId } = await submit(
      { From: 'someone@elsewhere.example', To: 'bob@partner.example', Subject: 'hello' },
      'hello',
      ['bob@partner.example'],
    );
    const item = await deps.quarantine.get(submissionId, 'bob@partner.example');
    expect(item?.status).toBe('BLOCKED');
    expect(item?.reason).toContain('from someone@elsewhere.example is not a verified SES identity');
  });

  it('splits more than 50 recipients into SES calls of 50 and flags the sender past the recipient limit', async () => {
    const before = (await outbound.ses.emails()).length;
    const recipients = Array.from({ length: 120 }, (_, i) => `r${i}@partner.example`);
    const { submissionId } = await submit(
      { From: SENDER, To: 'undisclosed-recipients:;', Subject: 'newsletter' },
      'monthly news',
      recipients,
      'bulk',
    );
    expect((await outbound.ses.emails()).length - before).toBe(3);
    const ledger = await deps.ledger.get(submissionId);
    expect(Object.values(ledger).filter((s) => s === 'SENT')).toHaveLength(120);
    // The same sender again: 240 recipients in the window is over 130.
    const again = await submit(
      { From: SENDER, To: 'x@partner.example', Subject: 'more' },
      'more',
      recipients,
      'bulk',
    );
    expect(await deps.quarantine.get(again.submissionId, 'r0@partner.example')).toMatchObject({
      status: 'QUARANTINED',
      symbols: 'OUTBOUND_VOLUME_SPIKE',
    });
  });

  it('does not send twice when Send runs again for the same message', async () => {
    const { submissionId } = await submit(
      { From: SENDER, To: 'dan@partner.example', Subject: 'once' },
      'once',
      ['dan@partner.example'],
    );
    const before = (await outbound.ses.emails()).length;
    const record = [...outbound.workflow.executions.values()].find((e) => e.input.messageId === submissionId);
    await outbound.workflow.start(record!.input);
    await outbound.drain();
    expect((await outbound.ses.emails()).length).toBe(before);
  });

  it('holds as UNCONFIRMED, and never resends, a recipient whose earlier SES call died mid-way', async () => {
    // As a Send that marked the row ATTEMPTING and died during the SES call: its lease runs out.
    const lost = createSubmitHandler({
      ...outbound.deps,
      outboundStarter: { start: async () => ({ executionId: 'lost' }) },
    });
    const { submissionId } = await lost({
      raw: Buffer.from(eml({ From: SENDER, To: 'erin@partner.example', Subject: 'died' }, 'died')),
      envelope: { mailFrom: SENDER, recipients: ['erin@partner.example'] },
      submitter: 'alice',
    });
    expect(await deps.ledger.claim(submissionId, 'erin@partner.example', 'send', 60_000)).toBe(true);
    await deps.ledger.attempt(submissionId, 'erin@partner.example', 1);
    await new Promise((r) => setTimeout(r, 20));

    const before = requests.length;
    const record = await outbound.workflow.start({
      messageId: submissionId,
      bucket: aws.endpoints.bucket,
      key: `outbox/${submissionId}`,
      envelope: { mailFrom: SENDER, recipients: ['erin@partner.example'] },
      receivedAt: new Date().toISOString(),
      direction: 'outbound',
      submitter: 'alice',
    });
    await outbound.drain();
    expect(outbound.workflow.executions.get(record.executionId)?.status).toBe('SUCCEEDED');
    expect(requests.length).toBe(before);
    expect(await deps.ledger.get(submissionId)).toEqual({ 'erin@partner.example': 'UNCONFIRMED' });
    expect(await deps.quarantine.get(submissionId, 'erin@partner.example')).toMatchObject({
      status: 'UNCONFIRMED',
      direction: 'outbound',
      subject: 'died',
    });
    expect(
      (await deps.pending.due(new Date(Date.now() + 86_400_000), 1000)).map((p) => p.messageId),
    ).not.toContain(submissionId);
  });
});
