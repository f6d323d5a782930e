// Outbox ingest: S3 event for an object the SES Mail Manager ingress point's rule set wrote under
// outbox/. Mail Manager stores the message without its SMTP envelope, so the recipients are the
// header To/Cc/Bcc outside the protected domains and the sender the header From (a relay that strips
// Bcc loses those recipients: docs/deploy.md says so). Starts the outbound workflow on the object where it lies.

import { MalformedEventError } from '../errors.ts';
import type { WorkflowInput } from '../ports/index.ts';
import { KEYS, type OutboundHandlerDeps } from './deps.ts';
import { addressesIn, headerValues } from './header-block.ts';
import { recordAccepted } from './ingest.ts';
import { loadRequired } from './support.ts';

interface S3Event {
  readonly Records?: readonly { readonly s3?: { readonly object?: { readonly key?: string } } }[];
}

/** The submitter name of mail that came through the Mail Manager ingress point (one shared login). */
export const MAIL_MANAGER_SUBMITTER = 'mail-manager-ingress';

export function createOutboxIngestHandler(
  deps: Pick<
    OutboundHandlerDeps,
    'config' | 'bucket' | 'store' | 'pending' | 'outboundStarter' | 'clock' | 'logger'
  >,
) {
  const own = new Set(deps.config.domains.map((d) => d.name.toLowerCase()));
  // The organisation's server delivered its own domains' recipients itself and relayed only the rest;
  // sending them the header copy too would deliver every internal To/Cc twice.
  const outside = (address: string) => !own.has(address.slice(address.lastIndexOf('@') + 1).toLowerCase());
  return async (event: S3Event) => {
    const keys = (event.Records ?? []).map((r) =>
      decodeURIComponent((r.s3?.object?.key ?? '').replace(/\+/g, ' ')),
    );
    if (keys.length === 0 || keys.some((k) => !k.startsWith(KEYS.outboxPrefix)))
      throw new MalformedEventError(`not an outbox/ object event: ${keys.join(', ')}`);
    const started: string[] = [];
    for (const key of keys) {
      const raw = await loadRequired(deps.store, key);
      const recipients = ['to', 'cc', 'bcc']
        .flatMap((h) => headerValues(raw, h).flatMap(addressesIn))
        .filter(outside);
      const mailFrom = headerValues(raw, 'from').flatMap(addressesIn)[0] ?? '';
      const messageId = key.slice(KEYS.outboxPrefix.length).replace(/[^\w.-]/g, '_');
      if (recipients.length === 0) {
        // Relayed with only internal header recipients (or none readable): nothing leaves, nothing to check.
        deps.logger.info('nothing to send: no header recipient outside the protected domains', { messageId });
        continue;
      }
      const input: WorkflowInput = {
        messageId,
        bucket: deps.bucket,
        key,
        envelope: { mailFrom, recipients: [...new Set(recipients)] },
        receivedAt: deps.clock().toISOString(),
        direction: 'outbound',
        submitter: MAIL_MANAGER_SUBMITTER,
        envelopeFromHeaders: true,
      };
      // Envelope and pending entry: the reconciler re-drives a run that dies.
      await recordAccepted(deps, input);
      await deps.outboundStarter.start(input);
      deps.logger.info('submitted', {
        messageId,
        submitter: MAIL_MANAGER_SUBMITTER,
        recipients: recipients.length,
      });
      started.push(messageId);
    }
    return { started };
  };
}
