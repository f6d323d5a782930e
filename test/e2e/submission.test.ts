// End to end: a real SMTP client (nodemailer) submits to `seg serve`'s submission port with AUTH over
// STARTTLS; the outbound workflow sends through the aws-ses-v2-local emulator, or blocks and tells
// the sender; submission without AUTH or with a sender the submitter may not use is refused.

import type { SendEmailCommandInput } from '@aws-sdk/client-sesv2';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalGateway } from '../../lambdas/local/gateway.ts';
import { SUBMITTER, type SubmissionGateway, startSubmissionGateway } from '../support/submission-gateway.ts';

describe('seg serve submission port', () => {
  let served: SubmissionGateway;
  let gateway: LocalGateway;
  const requests: SendEmailCommandInput[] = [];

  beforeAll(async () => {
    served = await startSubmissionGateway({ name: 'submission' });
    gateway = served.gateway;
    gateway.submission?.outbound.sesClient.middlewareStack.add(
      (next) => async (args) => {
        requests.push(args.input as SendEmailCommandInput);
        return next(args);
      },
      { step: 'initialize' },
    );
  }, 60_000);

  afterAll(() => served?.close());

  const transport = (auth?: { user: string; pass: string }) =>
    nodemailer.createTransport({
      host: '127.0.0.1',
      port: gateway.submission?.port ?? 0,
      secure: false,
      requireTLS: true,
      // The local port's certificate is self-signed for localhost.
      tls: { rejectUnauthorized: false },
      ...(auth ? { auth } : {}),
    });

  const raw = (from: string, subject: string, body: string) =>
    `From: ${from}\r\nTo: bob@partner.example\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n`;

  it('sends a clean message submitted with AUTH to SES unchanged apart from seg headers', async () => {
    const message = raw(
      'Alice <alice@example.com>',
      'Quarterly plan',
      'Hi Bob, the plan is attached in spirit.',
    );
    const before = (await gateway.submission!.outbound.ses.emails()).length;
    const info = await transport({ user: 'alice', pass: SUBMITTER.pass }).sendMail({
      envelope: { from: 'alice@example.com', to: ['bob@partner.example'] },
      raw: message,
    });
    expect(info.response).toMatch(/^250 2\.0\.0 Ok: queued as out-/);
    await gateway.drain();
    const emails = (await gateway.submission!.outbound.ses.emails()).slice(before);
    expect(emails.map((e) => [e.subject, e.body.text])).toEqual([
      ['Quarterly plan', 'Hi Bob, the plan is attached in spirit.\n'],
    ]);
    const sent = Buffer.from(requests.at(-1)?.Content?.Raw?.Data ?? []).toString('utf8');
    const ours = sent.slice(0, sent.indexOf('From: '));
    expect(
      ours
        .split('\r\n')
        .filter(Boolean)
        .map((l) => l.split(':')[0]),
    ).toEqual(['X-SEG-Verdict', 'X-SEG-Score', 'X-SEG-Symbols', 'X-SEG-Direction']);
    expect(sent.slice(ours.length)).toBe(message);
  });

  it('blocks a message with a valid test card number and sends its sender a notice', async () => {
    const before = (await gateway.submission!.outbound.ses.emails()).length;
    await transport({ user: 'alice', pass: SUBMITTER.pass }).sendMail({
      envelope: { from: 'alice@example.com', to: ['bob@partner.example'] },
      raw: raw('alice@example.com', 'Card for the booking', 'card 5555 5555 5555 4444 exp 10/29'),
    });
    await gateway.drain();
    const emails = (await gateway.submission!.outbound.ses.emails()).slice(before);
    expect(emails.map((e) => [e.destination.to, e.subject])).toEqual([
      [['alice@example.com'], 'Not sent: Card for the booking'],
    ]);
    expect(emails[0]?.body.text).toContain('mastercard ************4444');
    expect(JSON.stringify(emails)).not.toContain('5555 5555 5555 4444');
  });

  it('refuses MAIL FROM without AUTH', async () => {
    await expect(
      transport().sendMail({
        envelope: { from: 'alice@example.com', to: ['bob@partner.example'] },
        raw: raw('alice@example.com', 'no auth', 'hello'),
      }),
    ).rejects.toMatchObject({ responseCode: 530 });
  });

  it('refuses a wrong password', async () => {
    await expect(
      transport({ user: 'alice', pass: 'wrong password!' }).sendMail({
        envelope: { from: 'alice@example.com', to: ['bob@partner.example'] },
        raw: raw('alice@example.com', 'bad pass', 'hello'),
      }),
    ).rejects.toMatchObject({ responseCode: 535 });
  });

  it('refuses a MAIL FROM the submitter may not use', async () => {
    await expect(
      transport({ user: 'alice', pass: SUBMITTER.pass }).sendMail({
        envelope: { from: 'ceo@example.com', to: ['bob@partner.example'] },
        raw: raw('alice@example.com', 'spoof envelope', 'hello'),
      }),
    ).rejects.toMatchObject({
      responseCode: 550,
      response: expect.stringContaining('not allowed for alice'),
    });
  });

  it('refuses a header From the submitter may not use', async () => {
    await expect(
      transport({ user: 'alice', pass: SUBMITTER.pass }).sendMail({
        envelope: { from: 'alice@example.com', to: ['bob@partner.example'] },
        raw: raw('CEO <ceo@example.com>', 'spoof header', 'hello'),
      }),
    ).rejects.toMatchObject({
      responseCode: 550,
      response: expect.stringContaining('From <ceo@example.com>'),
    });
  });

  it('does not offer AUTH before STARTTLS', async () => {
    const plain = nodemailer.createTransport({
      host: '127.0.0.1',
      port: gateway.submission?.port ?? 0,
      secure: false,
      ignoreTLS: true,
      auth: { user: 'alice', pass: SUBMITTER.pass },
    });
    await expect(
      plain.sendMail({
        envelope: { from: 'alice@example.com', to: ['b@partner.example'] },
        raw: raw('alice@example.com', 'x', 'y'),
      }),
    ).rejects.toMatchObject({ code: 'EAUTH' });
  });
});
