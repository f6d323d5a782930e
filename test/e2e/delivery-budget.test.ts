// Delivery at most once, status always true, inside the budget: a black-holed server (accepts TCP, never
// answers) ends DEFERRED, each domain of a multi-domain message is tried at the same time (so several
// take no longer than one), and a server that takes longer than the attempt deadline to accept is
// recorded UNCONFIRMED: one copy, no QUARANTINED status, and a release sends no second copy.
// The SMTP waits are shortened (injected); the workflow definition is the deployed one.

import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/config/load-config.ts';
import { offlineResolver } from '../../lambdas/engine/scan-message.ts';
import { type LocalGateway, startLocalGateway } from '../../lambdas/local/gateway.ts';

const SHORT = { connect: 300, greeting: 300, socket: 300, attempt: 1_000 };
const RAW = 'From: alice@sender.test\r\nTo: bob@example.com\r\nSubject: budget\r\n\r\nhello\r\n';

async function send(gateway: LocalGateway, to: string[]): Promise<string> {
  const transport = nodemailer.createTransport({
    host: gateway.smtp.host,
    port: gateway.smtp.port,
    ignoreTLS: true,
  });
  try {
    const info = await transport.sendMail({ envelope: { from: 'alice@sender.test', to }, raw: RAW });
    return /queued as ([a-z0-9]+)/.exec(info.response)?.[1] ?? '';
  } finally {
    transport.close();
  }
}

const listen = (server: Server | SMTPServer) =>
  new Promise<number>((resolve) => {
    const s = server as Server;
    s.listen(0, '127.0.0.1', () => {
      const address = (server instanceof SMTPServer ? server.server : s).address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });

async function gatewayTo(port: number, dataDir: string, domains: string[]): Promise<LocalGateway> {
  return startLocalGateway({
    config: parseConfig({
      domains: domains.map((name) => ({ name, route: { host: 'mail.example.com', port: 587 } })),
      local: { downstream: { host: '127.0.0.1', port } },
    }),
    dataDir,
    smtpPort: 0,
    retryIntervalMs: 0,
    resolver: offlineResolver,
    reconcileIntervalMs: false,
    smtpTimeouts: SHORT,
    log: () => undefined,
  });
}

describe('a black-holed downstream server', () => {
  let dataDir: string;
  let hole: Server;
  let gateway: LocalGateway;
  let open = 0;
  let maxOpen = 0;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'seg-blackhole-'));
    // Accepts every connection and never says a word.
    hole = createServer((socket) => {
      sockets.add(socket);
      open++;
      maxOpen = Math.max(maxOpen, open);
      socket.on('close', () => {
        open--;
        sockets.delete(socket);
      });
      socket.on('error', () => undefined);
    });
    const port = await listen(hole);
    gateway = await gatewayTo(port, dataDir, ['example.com', 'example.org', 'example.net']);
  });

  afterAll(async () => {
    await gateway?.close();
    for (const s of sockets) s.destroy();
    await new Promise((r) => hole?.close(r));
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('ends DEFERRED for every recipient of a three-domain message, the domains tried at the same time', async () => {
    const id = await send(gateway, ['bob@example.com', 'carol@example.org', 'dan@example.net']);
    await gateway.drain();
    expect(await gateway.deps.ledger.get(id)).toEqual({
      'bob@example.com': 'DEFERRED',
      'carol@example.org': 'DEFERRED',
      'dan@example.net': 'DEFERRED',
    });
    for (const r of ['bob@example.com', 'carol@example.org', 'dan@example.net'])
      expect(await gateway.deps.quarantine.get(id, r)).toMatchObject({ status: 'DEFERRED', attempts: 1 });
    // All three domains had their connection open at once: parallel, not one after the other.
    expect(maxOpen).toBeGreaterThanOrEqual(3);
  });
});

describe('a downstream server slower to accept than the attempt deadline', () => {
  let dataDir: string;
  let slow: SMTPServer;
  let gateway: LocalGateway;
  const received: string[][] = [];
  /** How long the server takes to answer the final dot: past the attempt deadline, until the test says. */
  let replyAfterMs = 2_500;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'seg-slow-'));
    slow = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream, session, callback) {
        stream.on('data', () => undefined);
        stream.on('end', () => {
          // Stored at once (it will be delivered), but the 250 comes long after the client gave up.
          received.push(session.envelope.rcptTo.map((r) => r.address));
          setTimeout(() => callback(), replyAfterMs);
        });
      },
    });
    slow.on('error', () => undefined);
    const port = await listen(slow);
    gateway = await gatewayTo(port, dataDir, ['example.com']);
  });

  afterAll(async () => {
    await gateway?.close();
    await new Promise<void>((r) => slow?.close(() => r()));
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('records UNCONFIRMED, delivers one copy, lists it for an administrator, and sends again only on a forced release', async () => {
    const id = await send(gateway, ['bob@example.com']);
    await gateway.drain();
    expect(await gateway.deps.ledger.get(id)).toEqual({ 'bob@example.com': 'UNCONFIRMED' });
    // Visible to an administrator, with what to do about it; not QUARANTINED (nothing held it by policy).
    const item = await gateway.deps.quarantine.get(id, 'bob@example.com');
    expect(item).toMatchObject({ status: 'UNCONFIRMED', subject: 'budget', sender: 'alice@sender.test' });
    expect(item?.reason).toMatch(/check the mailbox/);
    expect((await gateway.deps.quarantine.listByStatus('UNCONFIRMED')).map((i) => i.messageId)).toContain(id);

    const release = await gateway.release(id, 'bob@example.com');
    expect(release).toMatchObject({ released: false, reason: expect.stringMatching(/--force/) });
    // A re-drive (Express runs at least once) sends nothing either.
    const reconciled = await gateway.reconcile({
      orphanedBefore: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(reconciled.redriven).toEqual([]);
    await gateway.drain();
    await new Promise((r) => setTimeout(r, 3_000));
    expect(received).toEqual([['bob@example.com']]);
    expect(await gateway.deps.ledger.get(id)).toEqual({ 'bob@example.com': 'UNCONFIRMED' });

    // The administrator found it missing from the mailbox: a forced release sends it once more, once.
    replyAfterMs = 0;
    expect(await gateway.release(id, 'bob@example.com', true)).toMatchObject({ released: true });
    expect(await gateway.release(id, 'bob@example.com', true)).toMatchObject({ released: false });
    expect(received).toEqual([['bob@example.com'], ['bob@example.com']]);
    expect(await gateway.deps.ledger.get(id)).toEqual({ 'bob@example.com': 'DELIVERED' });
    expect(await gateway.deps.quarantine.get(id, 'bob@example.com')).toMatchObject({ status: 'RELEASED' });
  });
});
