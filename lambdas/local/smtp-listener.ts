// The local stand-in for SES receiving: an SMTP listener that accepts mail only for protected domains,
// makes the envelope durable, stores the raw message at inbound/<id> (the S3 action), and only then
// replies 250 and invokes ingest with the event SES's Lambda action sends. No AUTH, no relay, no
// scanning here: the workflow scans, as in AWS.

import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { SMTPServer, type SMTPServerAddress, type SMTPServerSession } from 'smtp-server';
import type { SegConfig } from '../config/schema.ts';
import { fieldValue, splitMessage } from '../contracts/header-block.ts';
import { KEYS } from '../handlers/deps.ts';
import type { Clock, MessageStore } from '../ports/index.ts';

/** The ingest handler as SES invokes it (Lambda action, InvocationType Event). */
export type IngestHandler = (event: SesLambdaEvent) => Promise<unknown>;

export interface SmtpListenerOptions {
  readonly config: SegConfig;
  readonly store: MessageStore;
  readonly ingest: IngestHandler;
  /**
   * Makes the event's envelope durable (envelope object and pending-index entry). Called before the
   * message is stored and before the 250 reply, so a crash after the reply loses no recipient.
   */
  readonly recordEnvelope: (event: SesLambdaEvent) => Promise<void>;
  /** @default config.local.host */
  readonly host?: string;
  /** @default config.local.smtpPort; 0 picks a free port */
  readonly port?: number;
  /** The name in the banner and Received headers. @default os.hostname() */
  readonly serverName?: string;
  readonly clock?: Clock;
  /**
   * Called with the event when ingest still fails after Lambda's two async retries: Lambda's on-failure
   * destination, from which the reconciler re-ingests it. `drain()` waits for a returned promise.
   */
  readonly onIngestFailed?: (messageId: string, error: Error, event: SesLambdaEvent) => void | Promise<void>;
  /** Pause between async ingest retries (Lambda waits about a minute). @default 1000 */
  readonly ingestRetryMs?: number;
}

export interface SmtpListener {
  readonly host: string;
  readonly port: number;
  /** Resolves when every ingest invocation started so far has ended. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

/** SMTP replies with enhanced status codes. */
const REPLY = {
  relayDenied: {
    code: 550,
    text: '5.7.1 Relaying denied: this gateway accepts mail only for its protected domains',
  },
  unknownRecipient: { code: 550, text: '5.7.1 Recipient address rejected: not a protected recipient' },
  tooBig: { code: 552, text: '5.3.4 Message size exceeds the fixed maximum message size' },
  tooManyRecipients: { code: 452, text: '4.5.3 Too many recipients' },
  /** `user%other@domain` asks us to forward to `other` (the percent hack): a relay, refused. */
  percentHack: { code: 550, text: '5.7.1 Relaying denied: % routing in the local part is not accepted' },
  dataTooSlow: { code: 421, text: '4.4.2 DATA took too long, closing connection' },
  storeFailed: { code: 451, text: '4.3.0 Temporary storage failure, please retry' },
} as const;

function smtpError(reply: { code: number; text: string }): Error {
  return Object.assign(new Error(reply.text), { responseCode: reply.code });
}

/** The part of smtp-server's connection object the DATA time limit uses (not in its typings). */
interface SmtpConnection {
  readonly session: SMTPServerSession;
  send(code: number, text: string): void;
  close(): void;
}

/** SES message ids are 20-40 lowercase letters and digits; these are 40, from 200 random bits. */
export function newMessageId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(40)].map((b) => alphabet[b % alphabet.length]).join('');
}

/** Starts the listener; resolves once it accepts connections. */
export async function startSmtpListener(options: SmtpListenerOptions): Promise<SmtpListener> {
  const { config, store } = options;
  const clock = options.clock ?? (() => new Date());
  const host = options.host ?? config.local.host;
  const serverName = options.serverName ?? hostname();
  const domains = new Map(config.domains.map((d) => [d.name.toLowerCase(), d]));
  const ingesting = new Set<Promise<void>>();

  const acceptsRecipient = (address: string): { code: number; text: string } | undefined => {
    const at = address.lastIndexOf('@');
    const local = address.slice(0, Math.max(at, 0)).toLowerCase();
    const domain = domains.get(address.slice(at + 1).toLowerCase());
    if (at < 1 || !domain) return REPLY.relayDenied;
    if (local.includes('%')) return REPLY.percentHack;
    // RFC 5321 section 4.5.1: postmaster of every domain we receive for must be accepted.
    if (local === 'postmaster') return undefined;
    if (domain.recipients && !domain.recipients.some((r) => r.toLowerCase() === address.toLowerCase())) {
      return REPLY.unknownRecipient;
    }
    return undefined;
  };
  /** RFC 5321 4.5.1: a bare `postmaster` is our postmaster (at the first protected domain). */
  const postmaster = `postmaster@${config.domains[0]?.name ?? 'localhost'}`;

  const ingestInBackground = (event: SesLambdaEvent, messageId: string) => {
    // Lambda's async invocation: the event is queued, and a failing function is retried twice.
    const run = async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          await options.ingest(event);
          return;
        } catch (error) {
          if (attempt >= 3) {
            // A failing callback must not turn into an unhandled rejection of the runtime.
            await Promise.resolve()
              .then(() => options.onIngestFailed?.(messageId, error as Error, event))
              .catch(() => undefined);
            return;
          }
          await new Promise((r) => setTimeout(r, options.ingestRetryMs ?? 1000));
        }
      }
    };
    const tracked: Promise<void> = run().finally(() => ingesting.delete(tracked));
    ingesting.add(tracked);
  };

  const server = new SMTPServer({
    name: serverName,
    banner: 'seg local inbound SMTP',
    logger: false,
    // Inbound MX: no AUTH, like SES receiving. Plain on loopback: the local listener has no certificate.
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    hideSTARTTLS: true,
    // No DNS from the listener: the Received header carries the IP, as SES does when rDNS is absent.
    disableReverseLookup: true,
    size: config.limits.maxMessageBytes,
    // More connections than this get 421 at once: idle clients cannot exhaust the process.
    maxClients: config.limits.maxConnections,
    onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, callback: (err?: Error | null) => void) {
      // Past the limit, 452: the client sends the rest in another transaction (RFC 5321 4.5.3.1.10).
      if (session.envelope.rcptTo.length >= config.limits.maxRecipients)
        return callback(smtpError(REPLY.tooManyRecipients));
      if (address.address.toLowerCase() === 'postmaster') address.address = postmaster;
      const refused = acceptsRecipient(address.address);
      callback(refused ? smtpError(refused) : null);
    },
    onData(stream, session, callback) {
      // However slowly a client trickles bytes (each resetting the idle timeout), DATA ends in time.
      const timer = setTimeout(() => {
        const connection = [...(server as unknown as { connections: Set<SmtpConnection> }).connections].find(
          (c) => c.session === session,
        );
        connection?.send(REPLY.dataTooSlow.code, REPLY.dataTooSlow.text);
        connection?.close();
      }, config.limits.maxDataSeconds * 1000);
      stream.once('end', () => clearTimeout(timer));
      stream.once('close', () => clearTimeout(timer));
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => {
        // Past the limit smtp-server keeps reading to the end of DATA; keep no more bytes than needed.
        if (!stream.sizeExceeded) chunks.push(chunk);
      });
      stream.on('error', (error) => callback(error));
      stream.on('end', () => {
        if (stream.sizeExceeded) return callback(smtpError(REPLY.tooBig));
        accept(Buffer.concat(chunks), session).then(
          (messageId) => callback(null, `2.0.0 Ok: queued as ${messageId}`),
          () => callback(smtpError(REPLY.storeFailed)),
        );
      });
    },
  });

  const accept = async (data: Buffer, session: SMTPServerSession): Promise<string> => {
    const messageId = newMessageId();
    const now = clock();
    const recipients = session.envelope.rcptTo.map((r) => r.address);
    const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
    const received = receivedHeader({
      helo: session.hostNameAppearsAs,
      ip: session.remoteAddress,
      serverName,
      messageId,
      // Every recipient gets the same bytes: naming one in a multi-recipient copy discloses a Bcc.
      ...(recipients.length === 1 ? { recipient: recipients[0] } : {}),
      date: now,
    });
    const raw = Buffer.concat([Buffer.from(received, 'latin1'), data]);
    const event = sesLambdaEvent({ messageId, raw, mailFrom, recipients, timestamp: now });
    // 250 means durable: the envelope first (an envelope without a message is dropped by the
    // reconciler, never delivered), then the message; the reply waits for both.
    await options.recordEnvelope(event);
    await store.put(KEYS.inbound(messageId), new Uint8Array(raw), 'message/rfc822');
    ingestInBackground(event, messageId);
    return messageId;
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? config.local.smtpPort, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Errors after start (a client resetting its connection) must not crash the runtime.
  server.on('error', () => undefined);
  const port = (server.server.address() as AddressInfo).port;

  return {
    host,
    port,
    async drain() {
      while (ingesting.size > 0) await Promise.all([...ingesting]);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The Received field SES prepends, with CRLF: `from <helo> (<rdns or ip> [<ip>]) by <host> ...`. */
export function receivedHeader(input: {
  helo: string;
  ip: string;
  serverName: string;
  messageId: string;
  recipient?: string;
  date: Date;
}): string {
  const ip = input.ip.replace(/^::ffff:/, '');
  const helo = input.helo || `[${ip}]`;
  const forPart = input.recipient ? ` for ${input.recipient}` : '';
  const date = input.date.toUTCString().replace('GMT', '+0000 (UTC)');
  return `Received: from ${helo} (${ip} [${ip}])\r\n by ${input.serverName} with SMTP id ${input.messageId}${forPart};\r\n ${date}\r\n`;
}

/** The event SES's Lambda action delivers: `mail` and `receipt`, never the body. */
export interface SesLambdaEvent {
  readonly Records: readonly {
    readonly eventSource: 'aws:ses';
    readonly eventVersion: '1.0';
    readonly ses: { readonly mail: SesMail; readonly receipt: SesReceipt };
  }[];
}

interface SesMail {
  readonly timestamp: string;
  readonly source: string;
  readonly messageId: string;
  /** Header To/Cc addresses (not the envelope). */
  readonly destination: readonly string[];
  readonly headersTruncated: boolean;
  readonly headers: readonly { readonly name: string; readonly value: string }[];
  readonly commonHeaders: Record<string, unknown>;
}

interface SesReceipt {
  readonly timestamp: string;
  readonly processingTimeMillis: number;
  /** The envelope recipients this rule accepted: where the gateway relays. */
  readonly recipients: readonly string[];
  readonly spamVerdict: { readonly status: string };
  readonly virusVerdict: { readonly status: string };
  readonly spfVerdict: { readonly status: string };
  readonly dkimVerdict: { readonly status: string };
  readonly dmarcVerdict: { readonly status: string };
  readonly action: {
    readonly type: 'Lambda';
    readonly functionArn: string;
    readonly invocationType: 'Event';
  };
}

/** SES caps the headers it copies into the event; beyond this it sets headersTruncated. */
const MAX_EVENT_HEADER_CHARS = 10 * 1024;

/**
 * Builds the SES Lambda-action event for a stored message. Local receiving does no SPF/DKIM/DMARC or
 * spam/virus scanning, so every verdict is DISABLED: the workflow's own scanners decide.
 */
export function sesLambdaEvent(input: {
  messageId: string;
  raw: Uint8Array;
  mailFrom: string;
  recipients: readonly string[];
  timestamp: Date;
}): SesLambdaEvent {
  const headers: { name: string; value: string }[] = [];
  let chars = 0;
  let headersTruncated = false;
  for (const field of splitMessage(input.raw).fields) {
    if (field.colon < 0) continue;
    const value = fieldValue(field);
    chars += field.name.length + value.length;
    if (chars > MAX_EVENT_HEADER_CHARS) {
      headersTruncated = true;
      break;
    }
    headers.push({ name: field.name, value });
  }
  const header = (name: string) => headers.find((h) => h.name.toLowerCase() === name)?.value;
  const addresses = (name: string) =>
    headers
      .filter((h) => h.name.toLowerCase() === name)
      .flatMap((h) => h.value.match(/[^\s<>,;"]+@[^\s<>,;"]+/g) ?? []);
  const destination = [...addresses('to'), ...addresses('cc')];
  const timestamp = input.timestamp.toISOString();
  const disabled = { status: 'DISABLED' };
  return {
    Records: [
      {
        eventSource: 'aws:ses',
        eventVersion: '1.0',
        ses: {
          mail: {
            timestamp,
            source: input.mailFrom,
            messageId: input.messageId,
            destination,
            headersTruncated,
            headers,
            commonHeaders: {
              returnPath: input.mailFrom,
              from: header('from') ? [header('from')] : [],
              date: header('date'),
              to: addresses('to'),
              messageId: header('message-id'),
              subject: header('subject'),
            },
          },
          receipt: {
            timestamp,
            processingTimeMillis: 0,
            recipients: [...input.recipients],
            spamVerdict: disabled,
            virusVerdict: disabled,
            spfVerdict: disabled,
            dkimVerdict: disabled,
            dmarcVerdict: disabled,
            action: {
              type: 'Lambda',
              functionArn: 'arn:aws:lambda:local:000000000000:function:seg-ingest',
              invocationType: 'Event',
            },
          },
        },
      },
    ],
  };
}
