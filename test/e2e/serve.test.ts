import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quarantineCommand } from '../../bin/commands/quarantine.ts';
import { parseConfig } from '../../lambdas/config/load-config.ts';
import { offlineResolver } from '../../lambdas/engine/scan-message.ts';
import { KEYS } from '../../lambdas/handlers/deps.ts';
import { readTrace } from '../../lambdas/handlers/support.ts';
import { type LocalGateway, startLocalGateway } from '../../lambdas/local/gateway.ts';
import type { QuarantineItem } from '../../lambdas/ports/index.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';
import { captureStdout } from './helpers.ts';

const fixture = (name: string) => readFile(join(import.meta.dirname, '../fixtures/e2e', name));

/** Sends over real SMTP on loopback; resolves with the server's reply or rejects with its error. */
async function send(port: number, to: string[], raw: Buffer | string) {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
  try {
    return await transport.sendMail({ envelope: { from: 'alice@sender.test', to }, raw });
  } finally {
    transport.close();
  }
}

async function countInbound(gateway: LocalGateway): Promise<number> {
  let count = 0;
  for await (const _ of gateway.deps.store.list(KEYS.inboundPrefix)) count++;
  return count;
}

/** The header block of a raw message, for header assertions. */
const headerBlock = (raw: Buffer) => raw.toString('latin1').split(/\r?\n\r?\n/)[0] ?? '';
/** Everything after the header block: the bytes the gateway must not change. */
const bodyOf = (raw: Buffer) => {
  const text = raw.toString('latin1');
  const match = /\r?\n\r?\n/.exec(text);
  return match ? text.slice(match.index + match[0].length) : '';
};

describe('seg serve (local gateway end to end)', () => {
  let dataDir: string;
  let sink: SmtpSink;
  let gateway: LocalGateway;
  const MAX_MESSAGE_BYTES = 256 * 1024;
  let tempfailAttempts = 0;
  const outcomes: string[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'seg-e2e-'));
    // The organization's server: refuses tempfail@ for now (451) and nouser@ for good (550).
    sink = await startSmtpSink({
      reply: (rcpt) => {
        if (rcpt.startsWith('tempfail@')) tempfailAttempts++;
        return rcpt.startsWith('tempfail@') ? 451 : rcpt.startsWith('nouser@') ? 550 : 250;
      },
    });
    const config = parseConfig({
      domains: [{ name: 'example.com', route: { host: 'mail.example.com', port: 587 } }],
      limits: { maxMessageBytes: MAX_MESSAGE_BYTES, maxBodyChars: 20_000 },
      local: { smtpPort: 0, dataDir, downstream: { host: '127.0.0.1', port: sink.port } },
    });
    gateway = await startLocalGateway({
      config,
      dataDir,
      smtpPort: 0,
      retryIntervalMs: 0,
      resolver: offlineResolver,
      reconcileIntervalMs: false,
      log: () => undefined,
      info: (line) => outcomes.push(line),
    });
  });

  afterAll(async () => {
    await gateway?.close();
    await sink?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('delivers a clean message with verdict headers and the body bytes unchanged', async () => {
    const raw = await fixture('clean.eml');
    const info = await send(gateway.smtp.port, ['bob@example.com'], raw);
    expect(info.response).toMatch(/^250 /);
    await gateway.drain();

    const delivered = sink.messages.filter((m) => m.raw.includes('clean-e2e-1@sender.test'));
    expect(delivered).toHaveLength(1);
    const id = /queued as ([a-z0-9]+)/.exec(info.response)?.[1];
    expect(outcomes).toContain(`delivered ${id} to bob@example.com`);
    const message = delivered[0]!;
    expect(message.envelope.to).toEqual(['bob@example.com']);
    const headers = headerBlock(message.raw);
    expect(headers).toMatch(/^X-SEG-Verdict: /m);
    expect(headers).toMatch(/^X-SEG-Score: /m);
    expect(headers).toMatch(/^X-SEG-Symbols: /m);
    expect(headers).toMatch(/^Authentication-Results: /m);
    expect(headers).toMatch(/^Received: from /m);
    expect(bodyOf(message.raw)).toBe(bodyOf(raw));
  });

  it('quarantines a GTUBE message, lists it through the CLI and releases it exactly once', async () => {
    const raw = await fixture('gtube.eml');
    await send(gateway.smtp.port, ['carol@example.com'], raw);
    await gateway.drain();
    const before = sink.messages.length;

    const listed = await captureStdout(() => quarantineCommand('list', { json: true, dataDir }));
    expect(listed.result).toBe(0);
    const items = JSON.parse(listed.stdout) as QuarantineItem[];
    const item = items.find((i) => i.recipient === 'carol@example.com');
    expect(item).toBeDefined();
    expect(item?.status).toBe('QUARANTINED');
    expect(item?.symbols).toContain('GTUBE');
    expect(sink.messages.length).toBe(before);

    const first = await captureStdout(() =>
      quarantineCommand('release', { messageId: item!.messageId, dataDir }),
    );
    expect(first.result).toBe(0);
    const second = await captureStdout(() =>
      quarantineCommand('release', { messageId: item!.messageId, dataDir }),
    );
    expect(second.result).not.toBe(0);

    const released = sink.messages.filter((m) => m.raw.includes('gtube-e2e-1@sender.test'));
    expect(released).toHaveLength(1);
    expect(released[0]?.envelope.to).toEqual(['carol@example.com']);
    expect(headerBlock(released[0]!.raw)).toMatch(/^X-SEG-Released: /m);

    const after = await captureStdout(() =>
      quarantineCommand('list', { json: true, status: 'RELEASED', dataDir }),
    );
    const releasedItems = JSON.parse(after.stdout) as QuarantineItem[];
    expect(releasedItems.map((i) => i.messageId)).toContain(item!.messageId);
  });

  it('refuses mail for an unprotected domain at RCPT with 550 5.7.1', async () => {
    const raw = await fixture('clean.eml');
    const error = await send(gateway.smtp.port, ['someone@elsewhere.test'], raw).catch((e: unknown) => e);
    expect(error).toMatchObject({ responseCode: 550 });
    expect(String((error as { response?: string }).response)).toContain('5.7.1');
  });

  it('gives a malformed, truncated message a disposition instead of losing it', async () => {
    const raw = await fixture('malformed-truncated.eml');
    const info = await send(gateway.smtp.port, ['dave@example.com'], raw);
    const messageId = /queued as ([a-z0-9]+)/.exec(info.response)?.[1];
    expect(messageId).toBeDefined();
    await gateway.drain();
    const ledger = await gateway.deps.ledger.get(messageId!);
    expect(['DELIVERED', 'QUARANTINED']).toContain(ledger['dave@example.com']);
  });

  it('gives a message beyond the parse limits a disposition instead of losing it', async () => {
    const body = `${'All work and no play makes a long message. '.repeat(2_000)}\r\n`;
    const raw = `From: Eve <eve@sender.test>\r\nTo: frank@example.com\r\nSubject: long\r\nMessage-ID: <long-e2e-1@sender.test>\r\n\r\n${body}`;
    const info = await send(gateway.smtp.port, ['frank@example.com'], raw);
    const messageId = /queued as ([a-z0-9]+)/.exec(info.response)?.[1];
    await gateway.drain();
    const ledger = await gateway.deps.ledger.get(messageId!);
    expect(['DELIVERED', 'QUARANTINED']).toContain(ledger['frank@example.com']);
    const trace = await readTrace(gateway.deps.store, messageId!);
    expect(trace?.parse?.truncated).toBe(true);
  });

  it('refuses a message over the size limit with 552 and stores nothing for it', async () => {
    const raw = `From: eve@sender.test\r\nTo: grace@example.com\r\nSubject: huge\r\n\r\n${'x'.repeat(MAX_MESSAGE_BYTES + 1024)}\r\n`;
    const before = await countInbound(gateway);
    const error = await send(gateway.smtp.port, ['grace@example.com'], raw).catch((e: unknown) => e);
    expect(error).toMatchObject({ responseCode: 552 });
    await gateway.drain();
    expect(await countInbound(gateway)).toBe(before);
  });

  it('retries a downstream 451 and then queues the message as DEFERRED for the reconciler', async () => {
    const raw = await fixture('clean.eml');
    const info = await send(gateway.smtp.port, ['tempfail@example.com'], raw);
    const messageId = /queued as ([a-z0-9]+)/.exec(info.response)?.[1] ?? '';
    await gateway.drain();
    const item = await gateway.deps.quarantine.get(messageId, 'tempfail@example.com');
    expect(item?.status).toBe('DEFERRED');
    expect(item?.attempts).toBe(1);
    expect(Date.parse(item?.nextAttemptAt ?? '')).toBeGreaterThan(Date.parse(item?.receivedAt ?? ''));
    expect(item?.lastError).toContain('TransientDeliveryError');
    expect(tempfailAttempts).toBeGreaterThan(1);
    expect((await gateway.deps.ledger.get(messageId))['tempfail@example.com']).toBe('DEFERRED');
    expect(outcomes.some((line) => line.startsWith(`deferred ${messageId} for tempfail@example.com`))).toBe(
      true,
    );

    const listed = await captureStdout(() =>
      quarantineCommand('list', { json: true, status: 'DEFERRED', dataDir }),
    );
    expect((JSON.parse(listed.stdout) as QuarantineItem[]).map((i) => i.messageId)).toContain(messageId);
  });

  it('holds a message the downstream refuses with 550 as DELIVERY_FAILED without retrying', async () => {
    const raw = await fixture('clean.eml');
    const info = await send(gateway.smtp.port, ['nouser@example.com'], raw);
    const messageId = /queued as ([a-z0-9]+)/.exec(info.response)?.[1] ?? '';
    await gateway.drain();
    const item = await gateway.deps.quarantine.get(messageId, 'nouser@example.com');
    expect(item?.status).toBe('DELIVERY_FAILED');
    expect(item?.reason).toContain('PermanentDeliveryError');
    expect(sink.messages.some((m) => m.envelope.to.includes('nouser@example.com'))).toBe(false);
  });
});
