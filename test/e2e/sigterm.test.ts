// SIGTERM under load: `seg serve` (a real child process) is stopped while it holds a message sent with
// 12,000 RCPT commands and twenty full messages in their workflows. It must refuse recipients past its
// limit (452), exit cleanly (code 0, no error, no stale lock on its data folder), and after a restart
// every accepted recipient gets its copy exactly once.

import nodemailer from 'nodemailer';
import { describe, expect, it } from 'vitest';
import { exited, serveFixture } from '../support/seg-process.ts';

const MAX_RECIPIENTS = 100;
const FLOOD = 12_000;
const FULL_MESSAGES = 20;

describe('seg serve stopped with SIGTERM under load', () => {
  const fixture = serveFixture('sigterm');

  it('refuses recipients past the limit, exits cleanly, and delivers every accepted recipient once after a restart', async () => {
    const { args } = await fixture.configure({ limits: { maxRecipients: MAX_RECIPIENTS } });
    const { sink } = fixture;
    const first = await fixture.serve(args);

    const accepted = new Map<string, string[]>();
    const send = async (subject: string, to: string[]) => {
      const transport = nodemailer.createTransport({ host: '127.0.0.1', port: first.port, ignoreTLS: true });
      try {
        const info = await transport.sendMail({
          envelope: { from: 'alice@sender.test', to },
          raw: `From: alice@sender.test\r\nTo: list@example.com\r\nSubject: ${subject}\r\n\r\n${subject}\r\n`,
        });
        const id = /queued as ([a-z0-9]+)/.exec(info.response)?.[1];
        if (id) accepted.set(subject, info.accepted.map(String));
        return info;
      } finally {
        transport.close();
      }
    };
    const flood = await send(
      'flood',
      Array.from({ length: FLOOD }, (_, i) => `r${i}@example.com`),
    );
    // Postfix's behaviour: 452 past the limit, the transaction goes on with the recipients accepted.
    expect(flood.accepted).toHaveLength(MAX_RECIPIENTS);
    expect(flood.rejected).toHaveLength(FLOOD - MAX_RECIPIENTS);
    expect(String(flood.rejectedErrors?.[0]?.response)).toMatch(/^452/);
    await Promise.all(
      Array.from({ length: FULL_MESSAGES }, (_, m) =>
        send(
          `full ${m}`,
          Array.from({ length: MAX_RECIPIENTS }, (_, i) => `m${m}-${i}@example.com`),
        ),
      ),
    );
    expect(accepted.size).toBe(FULL_MESSAGES + 1);

    // Stop while the workflows of 2,100 recipient copies are still running.
    first.child.kill('SIGTERM');
    expect(await exited(first.child), first.output()).toBe(0);
    expect(first.output()).not.toMatch(/Error|not open|unhandled/i);

    // No stale lock: the same data folder opens again, and what was left is delivered.
    const second = await fixture.serve(args);
    const expected = [...accepted.values()].flat();
    // Generous: 2,100 copies through the restarted workflows take long on a loaded machine (bounded wait).
    for (
      let i = 0;
      i < 2_400 && new Set(sink.messages.flatMap((m) => m.envelope.to)).size < expected.length;
      i++
    )
      await new Promise((r) => setTimeout(r, 100));
    second.child.kill('SIGTERM');
    expect(await exited(second.child), second.output()).toBe(0);

    const copies = new Map<string, number>();
    for (const m of sink.messages) for (const to of m.envelope.to) copies.set(to, (copies.get(to) ?? 0) + 1);
    expect(expected.filter((r) => copies.get(r) !== 1)).toEqual([]);
    expect(copies.size).toBe(expected.length);
  }, 480_000);
});
