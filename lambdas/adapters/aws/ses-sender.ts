// OutboundSender on SESv2 SendEmail with raw content and a configuration set. The envelope
// recipients go in Destination (so Bcc recipients are sent to without appearing in the headers).
// Throttling and SES server faults are transient; a refusal (MessageRejected, unverified identity)
// is permanent. Locally the same adapter talks to the aws-ses-v2-local emulator.

import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { PermanentDeliveryError, TransientDeliveryError } from '../../errors.ts';
import type { OutboundSender, SendResult } from '../../ports/index.ts';
import { clientConfig } from './client-config.ts';
import type { BuildContext } from './deps.ts';

const TRANSIENT = new Set(['TooManyRequestsException', 'LimitExceededException', 'ThrottlingException']);

export class SesOutboundSender implements OutboundSender {
  constructor(private readonly client: SESv2Client) {}

  async send(input: Parameters<OutboundSender['send']>[0]): Promise<SendResult> {
    try {
      const out = await this.client.send(
        new SendEmailCommand({
          FromEmailAddress: input.from,
          Destination: { ToAddresses: [...input.recipients] },
          Content: { Raw: { Data: input.raw } },
          ConfigurationSetName: input.configurationSet,
        }),
      );
      return { sesMessageId: out.MessageId ?? '' };
    } catch (error) {
      const e = error as Error & { $fault?: string; $metadata?: { httpStatusCode?: number } };
      const message = `SES ${e.name}: ${e.message}`.slice(0, 500);
      const status = e.$metadata?.httpStatusCode;
      if (TRANSIENT.has(e.name) || e.$fault === 'server' || status === undefined)
        throw new TransientDeliveryError(message, status, { cause: error });
      throw new PermanentDeliveryError(message, status, { cause: error });
    }
  }
}

/** The Lambda builder: SESv2 in the function's region. */
export const sesOutboundSender = (ctx: BuildContext): SesOutboundSender =>
  new SesOutboundSender(new SESv2Client(clientConfig({ region: ctx.region })));
