// SmtpMailer against real smtp-server instances on loopback: TLS is required unless the local-only
// plain option is set, implicit TLS works, SMTP AUTH credentials come from the secret once, and
// SMTP replies map to transient/permanent errors.

import type { AddressInfo } from 'node:net';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { afterAll, describe, expect, it } from 'vitest';
import { SmtpMailer } from '../../lambdas/adapters/aws/smtp-mailer.ts';
import { PermanentDeliveryError, TransientDeliveryError } from '../../lambdas/errors.ts';
import { startSmtpSink } from '../support/smtp-sink.ts';

const RAW = new TextEncoder().encode(
  'From: a@sender.example\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nbody\r\n',
);
const envelope = { mailFrom: 'a@sender.example', recipients: ['b@example.com'] };
/** smtp-server falls back to its built-in self-signed certificate; the client is told to accept it. */
const trustSelfSigned = { rejectUnauthorized: false };

interface Received {
  secure: boolean;
  user?: string;
}

const servers: SMTPServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

/** A real SMTP server with the given options that records whether each session was encrypted. */
async function server(options: SMTPServerOptions): Promise<{ port: number; received: Received[] }> {
  const received: Received[] = [];
  const smtp = new SMTPServer({
    logger: false,
    ...options,
    onData(stream, session, callback) {
      stream.resume();
      stream.on('end', () => {
        received.push({ secure: session.secure, ...(session.user ? { user: String(session.user) } : {}) });
        callback();
      });
    },
  });
  servers.push(smtp);
  const port = await new Promise<number>((resolve) =>
    smtp.listen(0, '127.0.0.1', () => resolve((smtp.server.address() as AddressInfo).port)),
  );
  return { port, received };
}

const route = (port: number, extra: Record<string, unknown> = {}) => [
  { name: 'example.com', route: { host: '127.0.0.1', port, ...extra } },
];

describe('SmtpMailer', () => {
  it('refuses to send in plain text to a server without STARTTLS', async () => {
    const sink = await startSmtpSink();
    try {
      const mailer = new SmtpMailer({ domains: route(sink.port) });
      await expect(mailer.send({ envelope, raw: RAW, domain: 'example.com' })).rejects.toThrow(/ETLS/);
      expect(sink.messages).toHaveLength(0);
    } finally {
      await sink.stop();
    }
  });

  it('upgrades with STARTTLS by default', async () => {
    const { port, received } = await server({ authOptional: true });
    const mailer = new SmtpMailer({ domains: route(port), tls: trustSelfSigned });
    await mailer.send({ envelope, raw: RAW, domain: 'example.com' });
    expect(received).toEqual([{ secure: true }]);
  });

  it('speaks implicit TLS when the route says so', async () => {
    const { port, received } = await server({ authOptional: true, secure: true });
    const mailer = new SmtpMailer({ domains: route(port, { tls: 'implicit' }), tls: trustSelfSigned });
    await mailer.send({ envelope, raw: RAW, domain: 'example.com' });
    expect(received).toEqual([{ secure: true }]);
  });

  it('authenticates with the secret credentials, reading the secret once', async () => {
    const { port, received } = await server({
      onAuth(auth, _session, callback) {
        if (auth.username === 'relay' && auth.password === 's3cret')
          return callback(null, { user: auth.username });
        return callback(new Error('bad credentials'));
      },
    });
    let reads = 0;
    // No Secrets Manager emulator is available offline: a client stand-in answering GetSecretValue.
    const secrets = {
      send: async () => {
        reads++;
        return { SecretString: JSON.stringify({ username: 'relay', password: 's3cret' }) };
      },
    } as unknown as SecretsManagerClient;
    const mailer = new SmtpMailer({
      domains: route(port, { authSecretName: 'seg/smtp' }),
      secrets,
      tls: trustSelfSigned,
    });
    await mailer.send({ envelope, raw: RAW, domain: 'example.com' });
    await mailer.send({ envelope, raw: RAW, domain: 'example.com' });
    expect(received).toEqual([
      { secure: true, user: 'relay' },
      { secure: true, user: 'relay' },
    ]);
    expect(reads).toBe(1);
  });

  it('maps 5xx to PermanentDeliveryError and 4xx to TransientDeliveryError', async () => {
    const sink = await startSmtpSink({ reply: (r) => (r.startsWith('gone') ? 550 : 451) });
    try {
      const mailer = new SmtpMailer({ domains: route(sink.port), allowPlain: true });
      const gone = { ...envelope, recipients: ['gone@example.com'] };
      await expect(mailer.send({ envelope: gone, raw: RAW, domain: 'example.com' })).rejects.toMatchObject({
        name: 'PermanentDeliveryError',
        responseCode: 550,
      });
      await expect(mailer.send({ envelope, raw: RAW, domain: 'example.com' })).rejects.toMatchObject({
        name: 'TransientDeliveryError',
        responseCode: 451,
      });
    } finally {
      await sink.stop();
    }
  });

  it('treats a refused connection as transient and an unknown domain as permanent', async () => {
    const closed = await startSmtpSink();
    await closed.stop();
    const mailer = new SmtpMailer({
      domains: route(closed.port),
      allowPlain: true,
      timeouts: { connect: 2_000, greeting: 2_000, socket: 2_000 },
    });
    await expect(mailer.send({ envelope, raw: RAW, domain: 'example.com' })).rejects.toBeInstanceOf(
      TransientDeliveryError,
    );
    await expect(mailer.send({ envelope, raw: RAW, domain: 'example.net' })).rejects.toBeInstanceOf(
      PermanentDeliveryError,
    );
  });
});
