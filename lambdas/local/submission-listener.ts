// The local smart host: authenticated submission on 127.0.0.1:2587 (the counterpart of the SES Mail
// Manager AUTH ingress point). STARTTLS is offered and AUTH is accepted only over TLS; nothing is
// accepted without AUTH; a submitter may use only the sender addresses the config allows it, in
// MAIL FROM and in the header From. Accepted mail is stored at outbox/<id> before the 250 reply,
// and the outbound workflow scans it. No scanning here.

import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import {
  SMTPServer,
  type SMTPServerAddress,
  type SMTPServerAuthentication,
  type SMTPServerAuthenticationResponse,
  type SMTPServerSession,
} from 'smtp-server';
import { verifyPassword } from '../config/passwords.ts';
import type { SegConfig, Submitter } from '../config/schema.ts';
import { addressesIn, headerValues } from '../handlers/header-block.ts';
import type { Submission, SubmitResult } from '../handlers/submit.ts';
import type { TlsMaterial } from './self-signed.ts';

export interface SubmissionListenerOptions {
  readonly config: SegConfig;
  readonly submit: (submission: Submission) => Promise<SubmitResult>;
  readonly tls: TlsMaterial;
  /** @default config.local.host */
  readonly host?: string;
  /** @default config.local.submissionPort; 0 picks a free port */
  readonly port?: number;
}

export interface SubmissionListener {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

// A submission to more recipients than this is a mass mailing, not a person's message: 1000 is
// 20 SES calls, and far above any mail client's To/Cc/Bcc.
const MAX_RECIPIENTS = 1000;

const REPLY = {
  badCredentials: { code: 535, text: '5.7.8 Authentication credentials invalid' },
  senderNotAllowed: (address: string, user: string) => ({
    code: 550,
    text: `5.7.1 Sender <${address}> is not allowed for ${user}`,
  }),
  fromNotAllowed: (address: string, user: string) => ({
    code: 550,
    text: `5.7.1 From <${address}> is not allowed for ${user}`,
  }),
  noFrom: { code: 550, text: '5.6.0 The message has no From header' },
  tooMany: { code: 452, text: `4.5.3 Too many recipients (at most ${MAX_RECIPIENTS})` },
  tooBig: { code: 552, text: '5.3.4 Message size exceeds the fixed maximum message size' },
  storeFailed: { code: 451, text: '4.3.0 Temporary storage failure, please retry' },
} as const;

function smtpError(reply: { code: number; text: string }): Error {
  return Object.assign(new Error(reply.text), { responseCode: reply.code });
}

/** True when `address` matches one of the submitter's allowed addresses, domains or *.domains. */
export function senderAllowed(address: string, allowed: readonly string[]): boolean {
  const a = address.toLowerCase();
  const domain = a.slice(a.lastIndexOf('@') + 1);
  return allowed.some((entry) => {
    const e = entry.toLowerCase();
    if (e.includes('@')) return e === a;
    if (e.startsWith('*.')) return domain === e.slice(2) || domain.endsWith(e.slice(1));
    return domain === e;
  });
}

export async function startSubmissionListener(
  options: SubmissionListenerOptions,
): Promise<SubmissionListener> {
  const { config } = options;
  const host = options.host ?? config.local.host;
  const submitters = new Map(config.outbound.submitters.map((s) => [s.username, s]));
  const submitterOf = (session: SMTPServerSession): Submitter | undefined =>
    submitters.get(String(session.user ?? ''));

  const server = new SMTPServer({
    name: hostname(),
    banner: 'seg local submission (AUTH required)',
    logger: false,
    key: options.tls.key,
    cert: options.tls.cert,
    // AUTH is required for every transaction, and offered only after STARTTLS.
    authOptional: false,
    allowInsecureAuth: false,
    authMethods: ['PLAIN', 'LOGIN'],
    disableReverseLookup: true,
    size: config.limits.maxMessageBytes,
    onAuth(
      auth: SMTPServerAuthentication,
      _session: SMTPServerSession,
      callback: (err: Error | null | undefined, response?: SMTPServerAuthenticationResponse) => void,
    ) {
      const submitter = submitters.get(auth.username ?? '');
      // Verify against a real hash even for an unknown user, so timing does not reveal usernames.
      const hash = submitter?.passwordHash ?? UNKNOWN_USER_HASH;
      verifyPassword(auth.password ?? '', hash).then(
        (ok) =>
          ok && submitter
            ? callback(null, { user: submitter.username })
            : callback(smtpError(REPLY.badCredentials)),
        () => callback(smtpError(REPLY.badCredentials)),
      );
    },
    onMailFrom(
      address: SMTPServerAddress,
      session: SMTPServerSession,
      callback: (err?: Error | null) => void,
    ) {
      const submitter = submitterOf(session);
      if (!submitter) return callback(smtpError(REPLY.badCredentials));
      callback(
        senderAllowed(address.address, submitter.allowedFrom)
          ? null
          : smtpError(REPLY.senderNotAllowed(address.address, submitter.username)),
      );
    },
    onRcptTo(
      _address: SMTPServerAddress,
      session: SMTPServerSession,
      callback: (err?: Error | null) => void,
    ) {
      callback(session.envelope.rcptTo.length >= MAX_RECIPIENTS ? smtpError(REPLY.tooMany) : null);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => {
        if (!stream.sizeExceeded) chunks.push(chunk);
      });
      stream.on('error', (error) => callback(error));
      stream.on('end', () => {
        if (stream.sizeExceeded) return callback(smtpError(REPLY.tooBig));
        const raw = Buffer.concat(chunks);
        const submitter = submitterOf(session);
        if (!submitter) return callback(smtpError(REPLY.badCredentials));
        const from = headerValues(raw, 'from').flatMap(addressesIn);
        if (from.length === 0) return callback(smtpError(REPLY.noFrom));
        const forbidden = from.find((a) => !senderAllowed(a, submitter.allowedFrom));
        if (forbidden) return callback(smtpError(REPLY.fromNotAllowed(forbidden, submitter.username)));
        const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        options
          .submit({
            raw,
            envelope: { mailFrom, recipients: session.envelope.rcptTo.map((r) => r.address) },
            submitter: submitter.username,
          })
          .then(
            ({ submissionId }) => callback(null, `2.0.0 Ok: queued as ${submissionId}`),
            () => callback(smtpError(REPLY.storeFailed)),
          );
      });
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? config.local.submissionPort, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', () => undefined);
  const { port } = server.server.address() as AddressInfo;
  return {
    host,
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// A valid hash of a random password nobody knows, for constant-time refusal of unknown users.
const UNKNOWN_USER_HASH =
  'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
