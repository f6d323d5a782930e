// End to end: a message submitted on `seg serve`'s submission port that DLP quarantines (policy
// `quarantine` for card numbers) is released with `seg quarantine release`, which sends it through
// the running serve's SES emulator exactly once; a second release sends nothing.

import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quarantineCommand } from '../../bin/commands/quarantine.ts';
import { createReleaseHandler, type ReleaseResult } from '../../lambdas/handlers/release.ts';
import type { LocalGateway } from '../../lambdas/local/gateway.ts';
import { testConfig } from '../engine/helpers.ts';
import { SUBMITTER, type SubmissionGateway, startSubmissionGateway } from '../support/submission-gateway.ts';
import { captureStdout } from './helpers.ts';

describe('release of quarantined outbound mail', () => {
  let served: SubmissionGateway;
  let gateway: LocalGateway;
  let dir: string;

  beforeAll(async () => {
    served = await startSubmissionGateway({
      name: 'outbound-release',
      actions: { DLP_CARD_NUMBER: 'quarantine', DLP_ERROR: 'quarantine', OUTBOUND_SES_LIMIT: 'block' },
    });
    ({ gateway, dir } = served);
  }, 60_000);

  afterAll(() => served?.close());

  /** Submits with AUTH over STARTTLS; returns the submission id the server answered. */
  const submit = async (subject: string, body: string): Promise<string> => {
    const info = await nodemailer
      .createTransport({
        host: '127.0.0.1',
        port: gateway.submission?.port ?? 0,
        requireTLS: true,
        tls: { rejectUnauthorized: false },
        auth: { user: 'alice', pass: SUBMITTER.pass },
      })
      .sendMail({
        envelope: { from: 'alice@example.com', to: ['bob@partner.example'] },
        raw: `From: alice@example.com\r\nTo: bob@partner.example\r\nSubject: ${subject}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n${body}\r\n`,
      });
    await gateway.drain();
    return /queued as (\S+)/.exec(info.response)?.[1] ?? '';
  };
  const sentWith = async (subject: string) =>
    (await gateway.submission!.outbound.ses.emails()).filter((e) => e.subject === subject);
  const release = (messageId: string) =>
    captureStdout(() =>
      quarantineCommand('release', { messageId, dataDir: dir, recipient: 'bob@partner.example' }),
    );

  it('sends a DLP-quarantined message through SES once on release, and nothing on a second release', async () => {
    const id = await submit('Booking card', 'card 5555 5555 5555 4444 exp 10/29');
    expect(id).toMatch(/^out-/);
    expect(await sentWith('Booking card')).toEqual([]);
    const held = await gateway.deps.quarantine.get(id, 'bob@partner.example');
    expect(held).toMatchObject({ status: 'QUARANTINED', direction: 'outbound' });

    const first = await release(id);
    expect(first).toEqual({ result: 0, stdout: `released ${id} to bob@partner.example\n` });
    const sent = await sentWith('Booking card');
    expect(sent.map((e) => e.destination.to)).toEqual([['bob@partner.example']]);
    expect(sent[0]?.body.text).toContain('5555 5555 5555 4444');
    expect((await gateway.deps.quarantine.get(id, 'bob@partner.example'))?.status).toBe('SENT');
    expect((await gateway.deps.ledger.get(id))['bob@partner.example']).toBe('SENT');

    const second = await release(id);
    expect(second).toEqual({
      result: 1,
      stdout: `not released ${id} for bob@partner.example: already sent\n`,
    });
    expect(await sentWith('Booking card')).toHaveLength(1);
  }, 60_000);

  it('refuses to release what SES would refuse, and leaves it held', async () => {
    const id = await submit('Card again', 'card 4111 1111 1111 1111 exp 01/30');
    // The same stores, with a config whose verified identities no longer cover the sender.
    const strict = createReleaseHandler({
      ...gateway.deps,
      config: testConfig({ outbound: { identities: ['other.example'] } }),
      sender: gateway.submission!.outbound.deps.sender,
    });
    const result = (await strict({ messageId: id, recipient: 'bob@partner.example' })) as ReleaseResult;
    expect(result).toMatchObject({ released: false });
    expect(!result.released && result.reason).toMatch(
      /SES would refuse it: from alice@example\.com is not a verified SES identity/,
    );
    expect(await sentWith('Card again')).toEqual([]);
    expect((await gateway.deps.quarantine.get(id, 'bob@partner.example'))?.status).toBe('QUARANTINED');
  }, 60_000);
});
