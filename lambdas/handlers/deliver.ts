// Deliver: relays the message with the gateway's verdict headers to the envelope recipients (never
// the header To/Cc). 4xx and connection failures are retried by the workflow; 5xx goes to quarantine.

import type { DecidedState } from '../ports/index.ts';
import type { HandlerDeps } from './deps.ts';
import { buildOutgoingMessage } from './outgoing-message.ts';
import { type RelayResult, relay } from './relay.ts';
import { loadRequired } from './support.ts';
import { recordUnconfirmed } from './unconfirmed.ts';
import { verdictHeaders } from './verdict-headers.ts';

export function createDeliverHandler(
  deps: Pick<
    HandlerDeps,
    'config' | 'store' | 'ledger' | 'pending' | 'quarantine' | 'mailer' | 'clock' | 'logger' | 'metrics'
  >,
) {
  return async (state: DecidedState): Promise<RelayResult & { readonly messageId: string }> => {
    // One S3 GET: the verdict headers, Authentication-Results included, come in the state from Decide.
    const raw = await loadRequired(deps.store, state.key);
    const outgoing = buildOutgoingMessage(raw, verdictHeaders(deps.config, state.verdict));
    const result = await relay(deps, { messageId: state.messageId, envelope: state.envelope, outgoing });
    // Sent without a reply now, or by an earlier attempt that died (a re-drive finds it so): a person decides.
    await recordUnconfirmed(
      deps,
      state,
      [
        ...(result.unconfirmed ?? []),
        ...result.skipped.filter((s) => s.state === 'UNCONFIRMED').map((s) => s.recipient),
      ],
      raw,
    );
    // relay returned: every envelope recipient has a final disposition, so the message is no longer pending.
    await deps.pending.remove(state.messageId);
    return { messageId: state.messageId, ...result };
  };
}
