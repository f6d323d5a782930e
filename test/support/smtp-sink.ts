// Test helper: a real SMTP server (smtp-server) on 127.0.0.1 with a random port that records every
// message it accepts. Plain SMTP, no AUTH. `reply` picks a per-recipient code to exercise failures.

import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface SinkMessage {
  readonly envelope: { readonly from: string; readonly to: string[] };
  readonly raw: Buffer;
}

export interface SmtpSink {
  readonly port: number;
  readonly messages: SinkMessage[];
  stop(): Promise<void>;
}

export interface SmtpSinkOptions {
  /** SMTP code for RCPT TO per recipient: 250 accepts, 4xx/5xx refuse. @default 250 */
  readonly reply?: (recipient: string) => number;
}

export async function startSmtpSink(opts: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const messages: SinkMessage[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(address, _session, callback) {
      const code = opts.reply?.(address.address) ?? 250;
      if (code < 400) return callback();
      const error = new Error(code >= 500 ? 'mailbox unavailable' : 'try again later') as Error & {
        responseCode: number;
      };
      error.responseCode = code;
      return callback(error);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        messages.push({
          envelope: { from, to: session.envelope.rcptTo.map((r) => r.address) },
          raw: Buffer.concat(chunks),
        });
        callback();
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.server.address() as AddressInfo).port));
  });
  return {
    port,
    messages,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
