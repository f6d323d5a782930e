// Release: delivers a held message to one recipient on an administrator's request: inbound mail to
// the organisation's server, outbound mail through SES (release-outbound.ts). Allowed from QUARANTINED,
// DELIVERY_FAILED or DEFERRED (a manual flush of the queue), and with --force from UNCONFIRMED (the
// administrator checked the mailbox); the ledger claim makes a repeated release, or one racing the
// reconciler's retry, deliver at most once.

import { z } from 'zod';
import { MalformedEventError, NotFoundError } from '../errors.ts';
import type { HandlerDeps } from './deps.ts';
import { heldMessageOf } from './held-item.ts';
import { redeliver } from './redeliver.ts';
import { type ResendDeps, resend } from './release-outbound.ts';
import { recordUnconfirmed } from './unconfirmed.ts';

const ReleaseRequest = z.object({
  messageId: z.string().min(1),
  recipient: z.string().min(3),
  /** An administrator's explicit override, required for items that hold malware (adminRelease). */
  force: z.boolean().optional(),
});
export type ReleaseRequest = z.infer<typeof ReleaseRequest>;

export type ReleaseResult =
  | { readonly released: true; readonly messageId: string; readonly recipient: string }
  | {
      readonly released: false;
      readonly messageId: string;
      readonly recipient: string;
      readonly reason: string;
    };

/** Item statuses (and ledger states) a release may deliver from. */
export const RELEASABLE = ['QUARANTINED', 'DELIVERY_FAILED', 'DEFERRED'] as const;

export function createReleaseHandler(
  deps: Pick<
    HandlerDeps,
    'config' | 'store' | 'ledger' | 'quarantine' | 'mailer' | 'clock' | 'logger' | 'metrics'
  > &
    Pick<ResendDeps, 'sender'>,
) {
  return async (event: unknown): Promise<ReleaseResult> => {
    const request = ReleaseRequest.safeParse(event);
    if (!request.success)
      throw new MalformedEventError(
        'release needs {"messageId","recipient"} and an optional boolean "force"',
      );
    const messageId = request.data.messageId;
    const recipient = request.data.recipient.toLowerCase();
    const refuse = (reason: string): ReleaseResult => {
      deps.logger.info('release refused', { messageId, recipient, reason });
      return { released: false, messageId, recipient, reason };
    };

    const item = await deps.quarantine.get(messageId, recipient);
    if (!item) return refuse('not in quarantine');
    const state = (await deps.ledger.get(messageId))[recipient];
    if (state === 'DELIVERED' || state === 'SENT')
      return refuse(state === 'SENT' ? 'already sent' : 'already delivered');
    if (state === 'ATTEMPTING') return refuse('a delivery attempt is sending it now');
    // Unconfirmed: the server may have it. Only a person who checked the mailbox sends it again.
    const unconfirmed = state === 'UNCONFIRMED' || item.status === 'UNCONFIRMED';
    if (unconfirmed && !request.data.force)
      return refuse(
        'a delivery attempt sent it without a reply (UNCONFIRMED): check the mailbox; if it never arrived, release with --force',
      );
    if (!unconfirmed && !(RELEASABLE as readonly string[]).includes(item.status))
      return refuse(`quarantine status is ${item.status}`);
    if (item.adminRelease && !request.data.force) {
      return refuse(
        'it holds malware; only an administrator may release it (seg quarantine release --force)',
      );
    }
    if (item.adminRelease) deps.logger.warn('malware release forced', { messageId, recipient });
    if (unconfirmed) deps.logger.warn('unconfirmed delivery released again', { messageId, recipient });

    const released: readonly [string, string][] = [['X-SEG-Released', deps.clock().toISOString()]];
    const from = unconfirmed ? [...RELEASABLE, 'UNCONFIRMED' as const] : RELEASABLE;
    const outbound = item.direction === 'outbound';
    const result = outbound
      ? await resend(deps, item, from, released)
      : await redeliver(deps, item, from, released).then((r) => ({ ...r, sent: r.delivered }));
    if ('refused' in result) return refuse(result.refused);
    if ('unconfirmed' in result && result.unconfirmed?.length) {
      await recordUnconfirmed(deps, heldMessageOf(item), result.unconfirmed);
      return refuse('sent without a reply (UNCONFIRMED): check the mailbox before releasing again');
    }
    if (!result.sent.length) {
      const why = result.skipped[0]?.state;
      if (why === 'DELIVERED' || why === 'SENT')
        return refuse(why === 'SENT' ? 'already sent' : 'already delivered');
      return refuse(`ledger state is ${why ?? 'unknown'}`);
    }
    try {
      await deps.quarantine.setStatus(messageId, recipient, outbound ? 'SENT' : 'RELEASED');
    } catch (error) {
      // The delivery happened and is recorded in the ledger; a vanished item must not undo that.
      if (!(error instanceof NotFoundError)) throw error;
    }
    deps.logger.info('released', { messageId, recipient, status: outbound ? 'SENT' : 'RELEASED' });
    return { released: true, messageId, recipient };
  };
}
