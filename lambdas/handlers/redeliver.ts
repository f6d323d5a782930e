// Delivers a held message (a quarantine item) to its one recipient with the gateway's verdict headers:
// the path release and the reconciler's deferred-delivery retries share. It does not change the item.

import type { Disposition, QuarantineItem, WorkflowInput } from '../ports/index.ts';
import { type HandlerDeps, KEYS } from './deps.ts';
import { buildOutgoingMessage } from './outgoing-message.ts';
import { type RelayResult, relay } from './relay.ts';
import { loadOptionalJson, loadRequired, readTrace } from './support.ts';
import { authResultsOf, verdictHeaders } from './verdict-headers.ts';

/**
 * Relays the item's message to its recipient, claiming the ledger row from one of `claimFrom`.
 * `extraHeaders` go after the verdict headers (release adds X-SEG-Released). Throws as relay does.
 */
export async function redeliver(
  deps: Pick<HandlerDeps, 'config' | 'store' | 'ledger' | 'mailer' | 'logger' | 'metrics'>,
  item: Pick<QuarantineItem, 'messageId' | 'recipient' | 'messageKey' | 'score' | 'symbols'>,
  claimFrom: readonly Disposition[],
  extraHeaders: readonly [string, string][] = [],
): Promise<RelayResult> {
  const { messageId, recipient } = item;
  const [raw, trace, stored] = await Promise.all([
    loadRequired(deps.store, item.messageKey),
    readTrace(deps.store, messageId),
    loadOptionalJson<WorkflowInput>(deps.store, KEYS.envelope(messageId)),
  ]);
  const summary = trace?.verdict ?? {
    action: 'quarantine' as const,
    score: item.score,
    symbols: item.symbols ? item.symbols.split(' ') : [],
  };
  const outgoing = buildOutgoingMessage(
    raw,
    verdictHeaders(
      deps.config,
      { ...summary, authResults: authResultsOf(deps.config, trace?.verdict) },
      extraHeaders,
    ),
  );
  const envelope = {
    mailFrom: stored?.envelope.mailFrom ?? trace?.envelope.mailFrom ?? '',
    recipients: [recipient],
  };
  return relay(deps, { messageId, envelope, outgoing, claim: { from: claimFrom } });
}
