// Send: hands an outbound message to SES (SESv2 SendEmail, raw, with the configuration set), the
// gateway's headers prepended and every body byte the original's. SES takes 50 recipients per call,
// so the envelope is sent in batches (ses-send.ts); the ledger makes each (message, recipient) send at most once.

import type { DecidedState } from '../ports/index.ts';
import type { OutboundHandlerDeps } from './deps.ts';
import { outboundMessage, sendThroughSes } from './ses-send.ts';
import { loadRequired } from './support.ts';
import { recordUnconfirmed } from './unconfirmed.ts';

export interface SendOutcome {
  readonly messageId: string;
  readonly sent: readonly string[];
  readonly skipped: readonly string[];
  /** SES message id per batch. */
  readonly sesMessageIds: readonly string[];
}

export function createSendHandler(
  deps: Pick<
    OutboundHandlerDeps,
    'config' | 'store' | 'ledger' | 'pending' | 'quarantine' | 'sender' | 'clock' | 'logger' | 'metrics'
  >,
) {
  return async (state: DecidedState): Promise<SendOutcome> => {
    const raw = await loadRequired(deps.store, state.key);
    const outgoing = outboundMessage(deps.config, raw, state.verdict);
    const result = await sendThroughSes(deps, {
      messageId: state.messageId,
      mailFrom: state.envelope.mailFrom,
      recipients: state.envelope.recipients,
      outgoing,
    });
    // An earlier attempt died during its SES call (a re-drive finds it so): SES may have sent it, so
    // nothing sends it again by itself; an administrator sees it and decides.
    await recordUnconfirmed(
      deps,
      state,
      result.skipped.filter((s) => s.state === 'UNCONFIRMED').map((s) => s.recipient),
      raw,
    );
    // Every recipient is disposed of, unless another attempt still holds one (it clears the entry then).
    if (!result.skipped.some((s) => s.state === 'CLAIMED' || s.state === 'ATTEMPTING'))
      await deps.pending.remove(state.messageId);
    return {
      messageId: state.messageId,
      sent: result.sent,
      skipped: result.skipped.map((s) => s.recipient),
      sesMessageIds: result.sesMessageIds,
    };
  };
}
