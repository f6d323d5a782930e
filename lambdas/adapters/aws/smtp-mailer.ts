// Mailer over SMTP (nodemailer): relays a message to the route configured for the recipient domain.
// TLS is required by default (STARTTLS with requireTLS, or implicit TLS on 465); plain SMTP exists
// only for the local runtime's loopback downstream. SMTP replies map to transient/permanent errors.

import { Readable, Transform } from 'node:stream';
import type { ConnectionOptions } from 'node:tls';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import nodemailer from 'nodemailer';
import type { SmtpRoute } from '../../config/schema.ts';
import { SMTP_ATTEMPT_MS, SMTP_TIMEOUTS_MS } from '../../contracts/delivery-budget.ts';
import { PermanentDeliveryError, TransientDeliveryError, UnconfirmedDeliveryError } from '../../errors.ts';
import type { Mailer, MailerInput, MailerResult } from '../../ports/index.ts';
import { clientConfig } from './client-config.ts';
import type { BuildContext } from './deps.ts';

/** SMTP AUTH credentials as stored in the route's Secrets Manager secret. */
interface SmtpCredentials {
  readonly username: string;
  readonly password: string;
}

export interface SmtpMailerProps {
  /** Protected domains with their routes (config.domains). */
  readonly domains: readonly { readonly name: string; readonly route: SmtpRoute }[];
  /** Needed when a route names an `authSecretName`. */
  readonly secrets?: SecretsManagerClient;
  /**
   * Send without TLS when the server offers none. Only for the local runtime's loopback downstream:
   * in AWS, mail leaves the gateway encrypted or not at all.
   * @default false
   */
  readonly allowPlain?: boolean;
  /** Per-phase waits and the transaction's hard deadline. @default the delivery budget's */
  readonly timeouts?: Partial<SmtpTimeouts>;
  /** Extra TLS options, e.g. `ca` to trust an organization's private CA. Certificates are always verified unless a caller says otherwise. */
  readonly tls?: ConnectionOptions;
}

/** nodemailer's per-phase waits and one transaction's hard deadline, in milliseconds. */
export interface SmtpTimeouts {
  readonly connect: number;
  readonly greeting: number;
  readonly socket: number;
  readonly attempt: number;
}

export const DEFAULT_SMTP_TIMEOUTS: SmtpTimeouts = { ...SMTP_TIMEOUTS_MS, attempt: SMTP_ATTEMPT_MS };

export class SmtpMailer implements Mailer {
  private readonly routes: Map<string, SmtpRoute>;
  private readonly credentials = new Map<string, Promise<SmtpCredentials>>();

  constructor(private readonly props: SmtpMailerProps) {
    this.routes = new Map(props.domains.map((d) => [d.name.toLowerCase(), d.route]));
  }

  async send(input: MailerInput): Promise<MailerResult> {
    const route = this.routes.get(input.domain.toLowerCase());
    if (!route) throw new PermanentDeliveryError(`no SMTP route for domain ${input.domain}`);
    const auth = route.authSecretName ? await this.credentialsFor(route.authSecretName) : undefined;
    const implicit = route.tls ? route.tls === 'implicit' : route.port === 465;
    const timeouts = { ...DEFAULT_SMTP_TIMEOUTS, ...this.props.timeouts };
    const transport = nodemailer.createTransport({
      host: route.host,
      port: route.port,
      secure: implicit,
      requireTLS: !implicit && !this.props.allowPlain,
      ignoreTLS: !implicit && this.props.allowPlain === true,
      ...(auth ? { auth: { user: auth.username, pass: auth.password } } : {}),
      ...(this.props.tls ? { tls: this.props.tls } : {}),
      connectionTimeout: timeouts.connect,
      greetingTimeout: timeouts.greeting,
      socketTimeout: timeouts.socket,
    });
    // The body as a stream: once it has been read to its end, the server may have the whole message,
    // so a failure after that is "unconfirmed", never "not delivered". Destroying it before its end
    // makes the transaction fail before the final dot, so a late connection cannot deliver it after all.
    // The body ends only once beforeCommit has resolved: nodemailer writes the final dot after the end.
    const body = new Transform({
      transform: (chunk, _encoding, done) => done(null, chunk),
      flush: (done) => {
        (input.beforeCommit ?? (async () => undefined))().then(
          () => done(),
          (error: Error) => done(error),
        );
      },
    });
    Readable.from([Buffer.from(input.raw.buffer, input.raw.byteOffset, input.raw.byteLength)]).pipe(body);
    let bodySent = false;
    body.once('end', () => {
      bodySent = true;
    });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        body.destroy(new Error(`no reply within ${timeouts.attempt} ms`));
        reject(
          Object.assign(new Error(`SMTP transaction exceeded ${timeouts.attempt} ms`), { code: 'ETIMEDOUT' }),
        );
      }, timeouts.attempt);
    });
    try {
      const info = await Promise.race([
        transport.sendMail({
          envelope: { from: input.envelope.mailFrom, to: [...input.envelope.recipients] },
          raw: body,
        }),
        deadline,
      ]);
      const rejected = (info.rejected ?? []).map((r) => {
        const recipient = typeof r === 'string' ? r : (r as { address: string }).address;
        const detail = info.rejectedErrors?.find(
          (e) => (e as { recipient?: string }).recipient === recipient,
        ) as { responseCode?: number; response?: string } | undefined;
        return {
          recipient,
          ...(detail?.responseCode ? { responseCode: detail.responseCode } : {}),
          response: detail?.response ?? 'rejected',
        };
      });
      return { response: info.response, ...(rejected.length ? { rejected } : {}) };
    } catch (error) {
      const where = `${route.host} for ${input.envelope.recipients.join(', ')}`;
      const replied = typeof (error as { responseCode?: unknown }).responseCode === 'number';
      if (bodySent && !replied)
        throw new UnconfirmedDeliveryError(
          `delivery to ${where} unconfirmed: the message was sent but no reply came (${(error as Error).message})`,
          { cause: error },
        );
      throw toDeliveryError(error, where);
    } finally {
      clearTimeout(timer);
      transport.close();
    }
  }

  /** Fetched once per secret and cached for the life of the container. */
  private credentialsFor(secretName: string): Promise<SmtpCredentials> {
    let pending = this.credentials.get(secretName);
    if (!pending) {
      pending = this.fetchCredentials(secretName);
      // A failed fetch must not be cached, or one hiccup would poison the container.
      pending.catch(() => this.credentials.delete(secretName));
      this.credentials.set(secretName, pending);
    }
    return pending;
  }

  private async fetchCredentials(secretName: string): Promise<SmtpCredentials> {
    if (!this.props.secrets) throw new TransientDeliveryError(`no Secrets Manager client for ${secretName}`);
    let secret: string | undefined;
    try {
      const out = await this.props.secrets.send(new GetSecretValueCommand({ SecretId: secretName }));
      secret = out.SecretString;
    } catch (cause) {
      throw new TransientDeliveryError(`cannot read SMTP credentials from secret ${secretName}`, undefined, {
        cause,
      });
    }
    // A malformed secret is an operator mistake that gets fixed: defer the mail (it is retried for the
    // queue lifetime) rather than fail it, so nothing needs releasing by hand once the secret is right.
    const malformed = (cause?: unknown) =>
      new TransientDeliveryError(`secret ${secretName} must be JSON {"username","password"}`, undefined, {
        cause,
      });
    let parsed: Partial<SmtpCredentials>;
    try {
      parsed = JSON.parse(secret ?? '{}') as Partial<SmtpCredentials>;
    } catch (cause) {
      throw malformed(cause);
    }
    if (typeof parsed.username !== 'string' || typeof parsed.password !== 'string') throw malformed();
    return { username: parsed.username, password: parsed.password };
  }
}

/** 5xx is final; 4xx, timeouts, refused connections and TLS trouble may pass on a retry. */
export function toDeliveryError(
  error: unknown,
  where: string,
): TransientDeliveryError | PermanentDeliveryError {
  const e = error as { responseCode?: number; response?: string; code?: string; message?: string };
  const what = e.response ?? e.message ?? String(error);
  const message = `delivery to ${where} failed: ${e.code ? `${e.code} ` : ''}${what}`;
  if (typeof e.responseCode === 'number' && e.responseCode >= 500) {
    return new PermanentDeliveryError(message, e.responseCode, { cause: error });
  }
  return new TransientDeliveryError(message, e.responseCode, { cause: error });
}

/** The Lambda builder: the configured routes, with SMTP AUTH secrets read from Secrets Manager. */
export const smtpMailer = (ctx: BuildContext): SmtpMailer =>
  new SmtpMailer({
    domains: ctx.config.domains,
    secrets: new SecretsManagerClient(clientConfig({ region: ctx.region })),
  });
