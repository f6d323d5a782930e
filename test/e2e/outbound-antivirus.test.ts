// Outbound malware end to end: a message with EICAR attached, submitted with AUTH on `seg serve`'s
// submission port, is scanned by the same antivirus (clamd, found or started as serve does) and
// attachment scanners as inbound mail and is never handed to SES; its sender is told. A clean
// attachment goes out.

import nodemailer from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalGateway } from '../../lambdas/local/gateway.ts';
import { cleanPdf, EICAR } from '../support/av-samples.ts';
import { SUBMITTER, type SubmissionGateway, startSubmissionGateway } from '../support/submission-gateway.ts';

describe('outbound antivirus (end to end)', () => {
  let served: SubmissionGateway;
  let gateway: LocalGateway;

  beforeAll(async () => {
    // The policy names no action for malware: it is blocked all the same.
    served = await startSubmissionGateway({
      name: 'outbound-av',
      actions: { DLP_CARD_NUMBER: 'block', AV_ERROR: 'quarantine' },
    });
    gateway = served.gateway;
  }, 120_000);

  afterAll(() => served?.close());

  /** Submits a message with these attachments on port 2587's stand-in; returns the submission id. */
  const submit = async (subject: string, attachments: { filename: string; content: Buffer }[]) => {
    const raw = await new MailComposer({
      from: 'alice@example.com',
      to: 'bob@partner.example',
      subject,
      text: 'Files attached.',
      attachments,
    })
      .compile()
      .build();
    const info = await nodemailer
      .createTransport({
        host: '127.0.0.1',
        port: gateway.submission?.port ?? 0,
        requireTLS: true,
        tls: { rejectUnauthorized: false },
        auth: { user: 'alice', pass: SUBMITTER.pass },
      })
      .sendMail({ envelope: { from: 'alice@example.com', to: ['bob@partner.example'] }, raw });
    await gateway.drain();
    return /queued as (\S+)/.exec(info.response)?.[1] ?? '';
  };
  const emails = () => gateway.submission!.outbound.ses.emails();

  it('never sends EICAR: blocks it as AV_INFECTED and tells the sender', async () => {
    expect(gateway.antivirus.running).toBe(true);
    // .txt, not .com: SES's own attachment-type limit must not be what stops it.
    const id = await submit('eicar out', [{ filename: 'notes.txt', content: EICAR }]);
    const sent = await emails();
    expect(sent.filter((e) => e.subject === 'eicar out')).toEqual([]);
    expect(sent.filter((e) => e.subject === 'Not sent: eicar out').map((e) => e.destination.to)).toEqual([
      ['alice@example.com'],
    ]);
    const item = await gateway.deps.quarantine.get(id, 'bob@partner.example');
    expect(item?.status).toBe('BLOCKED');
    expect(item?.symbols.split(' ')).toContain('AV_INFECTED');
    expect(await gateway.deps.ledger.get(id)).toMatchObject({ 'bob@partner.example': 'BLOCKED' });
  }, 120_000);

  it('sends a clean PDF', async () => {
    await submit('clean pdf out', [{ filename: 'invoice.pdf', content: cleanPdf() }]);
    const sent = (await emails()).filter((e) => e.subject === 'clean pdf out');
    expect(sent.map((e) => e.attachments.map((a) => a.filename))).toEqual([['invoice.pdf']]);
  }, 120_000);
});
