// An UNCONFIRMED delivery (the whole message went out and no reply came, or the attempt died after
// sending) is shown to administrators as a quarantine item: the server may hold the message, so nothing
// sends it again by itself; a person checks the mailbox and, if it never arrived, releases it with --force.

import type { QuarantineItem } from '../ports/index.ts';
import type { HandlerDeps } from './deps.ts';
import { describe, describeRaw, type HeldMessage, heldItem } from './held-item.ts';

export const UNCONFIRMED_REASON =
  'delivery unconfirmed: the message was sent but no reply came, so the server may have it; check the mailbox, and release with --force only if it never arrived';

/**
 * Records each of `recipients` (ledger state UNCONFIRMED) as an UNCONFIRMED quarantine item: a new item,
 * or the recipient's existing one moved to UNCONFIRMED (a release or a queue retry that went unanswered).
 */
export async function recordUnconfirmed(
  deps: Pick<HandlerDeps, 'config' | 'store' | 'quarantine' | 'clock' | 'logger'>,
  state: HeldMessage,
  recipients: readonly string[],
  /** The raw message, when the caller has it: the item is described from it without another read. */
  raw?: Uint8Array,
): Promise<void> {
  if (!recipients.length) return;
  const reason = UNCONFIRMED_REASON;
  const now = deps.clock();
  let description: { sender: string; subject: string } | undefined;
  for (const recipient of recipients) {
    const existing = await deps.quarantine.get(state.messageId, recipient);
    if (existing?.status === 'UNCONFIRMED') continue;
    if (existing) {
      await deps.quarantine.update(state.messageId, recipient, existing.status, {
        status: 'UNCONFIRMED',
        reason,
        nextAttemptAt: undefined,
      });
    } else {
      description ??= raw ? describeRaw(raw, state.envelope.mailFrom) : await describe(deps, state);
      const item: QuarantineItem = {
        ...heldItem(deps, state, description, recipient, now),
        status: 'UNCONFIRMED',
        reason,
      };
      await deps.quarantine.put(item);
    }
    deps.logger.warn('delivery unconfirmed: held for an administrator', {
      messageId: state.messageId,
      recipient,
      status: 'UNCONFIRMED',
    });
  }
}
