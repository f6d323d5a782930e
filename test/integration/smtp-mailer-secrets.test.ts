// SmtpMailer's SMTP AUTH credential cache with the real SecretsManagerClient class mocked
// (aws-sdk-client-mock) and a real smtp-server on loopback: which secret is read, how often, and
// what a secret that is not {"username","password"} or cannot be read does to a send.

import type { AddressInfo } from 'node:net';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SmtpMailer } from '../../lambdas/adapters/aws/smtp-mailer.ts';
import { TransientDeliveryError } from '../../lambdas/errors.ts';

const SECRET = 'seg/smtp/example.com';
const RAW = new TextEncoder().encode(
  'From: a@sender.example\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nbody\r\n',
);
const envelope = { mailFrom: 'a@sender.example', recipients: ['b@example.com'] };

const secrets = mockClient(SecretsManagerClient);
/** The users of the sessions that delivered a message. */
const delivered: string[] = [];
let smtp: SMTPServer;
let port: number;

beforeAll(async () => {
  smtp = new SMTPServer({
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === 'relay' && auth.password === 's3cret') return callback(null, { user: 'relay' });
      return callback(new Error('bad credentials'));
    },
    onData(stream, session, callback) {
      stream.resume();
      stream.on('end', () => {
        delivered.push(String(session.user));
        callback();
      });
    },
  });
  port = await new Promise<number>((resolve) =>
    smtp.listen(0, '127.0.0.1', () => resolve((smtp.server.address() as AddressInfo).port)),
  );
});
afterAll(async () => {
  secrets.restore();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});
beforeEach(() => {
  secrets.reset();
  delivered.length = 0;
});

/** A mailer whose example.com route authenticates with SECRET. */
const mailer = () =>
  new SmtpMailer({
    domains: [{ name: 'example.com', route: { host: '127.0.0.1', port, authSecretName: SECRET } }],
    secrets: new SecretsManagerClient({ region: 'eu-west-1' }),
    // smtp-server falls back to its built-in self-signed certificate.
    tls: { rejectUnauthorized: false },
  });

const send = (m: SmtpMailer) => m.send({ envelope, raw: RAW, domain: 'example.com' });

describe('SmtpMailer credentials from Secrets Manager', () => {
  it('reads the route secret by name once for two concurrent sends and authenticates with it', async () => {
    secrets
      .on(GetSecretValueCommand)
      .resolves({ SecretString: JSON.stringify({ username: 'relay', password: 's3cret' }) });

    const m = mailer();
    await Promise.all([send(m), send(m)]);

    const reads = secrets.commandCalls(GetSecretValueCommand);
    expect(reads).toHaveLength(1);
    expect(reads[0]!.args[0].input).toEqual({ SecretId: SECRET });
    expect(delivered).toEqual(['relay', 'relay']);
  });

  it('defers, naming the secret and the expected shape, when a field is missing', async () => {
    secrets
      .on(GetSecretValueCommand)
      .resolves({ SecretString: JSON.stringify({ user: 'relay', pass: 'x' }) });

    const error = await send(mailer()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(TransientDeliveryError);
    expect((error as Error).message).toBe(`secret ${SECRET} must be JSON {"username","password"}`);
    expect(delivered).toEqual([]);
  });

  it('fails naming the secret, without connecting, when the secret is not JSON at all', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'relay:s3cret' });

    const error = await send(mailer()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(TransientDeliveryError);
    expect((error as Error).message).toBe(`secret ${SECRET} must be JSON {"username","password"}`);
    expect((error as Error).cause).toBeInstanceOf(SyntaxError);
    expect(delivered).toEqual([]);
  });

  it('does not cache a failed read: a throttled read is transient and the next send reads again', async () => {
    secrets
      .on(GetSecretValueCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
      .resolves({ SecretString: JSON.stringify({ username: 'relay', password: 's3cret' }) });

    const m = mailer();
    const first = await send(m).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(TransientDeliveryError);
    expect((first as Error).message).toContain(SECRET);
    expect(delivered).toEqual([]);

    await send(m);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    expect(delivered).toEqual(['relay']);
  });

  it('picks up a corrected secret on the next send after a malformed one', async () => {
    secrets
      .on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: JSON.stringify({ username: 'relay' }) })
      .resolves({ SecretString: JSON.stringify({ username: 'relay', password: 's3cret' }) });

    const m = mailer();
    await expect(send(m)).rejects.toBeInstanceOf(TransientDeliveryError);
    await send(m);

    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    expect(delivered).toEqual(['relay']);
  });
});
