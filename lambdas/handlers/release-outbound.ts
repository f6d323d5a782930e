// Release of held outbound mail: sends the item's message to its one recipient through SES, as the
// Send step would, after the same SES limits check (so SES never gets a message it would refuse). The
// ledger claim from a held disposition makes a repeated or racing release send at most once.

import { parseMessage } from '../engine/parse.ts';
import { sendingIdentities, sesLimitProblems } from '../engine/scanners/ses-limits.ts';
import type { Disposition, OutboundSender, QuarantineItem, WorkflowInput } from '../ports/index.ts';
import { type HandlerDeps, KEYS } from './deps.ts';
import { outboundMessage, type SesSendResult, sendThroughSes } from './ses-send.ts';
import { loadOptionalJson, loadRequired, readTrace } from './support.ts';

export type ResendDeps = Pick<HandlerDeps, 'config' | 'store' | 'ledger' | 'logger' | 'metrics'> & {
  /** SES; absent in a runtime that cannot send (the CLI with no `seg serve` running). */
  readonly sender?: OutboundSender;
};

/** Sends the item through SES, or says why not (nothing claimed then). Throws as sendThroughSes does. */
export async function resend(
  deps: ResendDeps,
  item: Pick<QuarantineItem, 'messageId' | 'recipient' | 'messageKey' | 'score' | 'symbols'>,
  claimFrom: readonly Disposition[],
  extraHeaders: readonly [string, string][],
): Promise<SesSendResult | { readonly refused: string }> {
  const { sender } = deps;
  if (!sender)
    return {
      refused:
        'outbound mail is released through SES, which this runtime cannot reach (locally: release it while `seg serve` runs with outbound submitters)',
    };
  const { messageId, recipient } = item;
  const [raw, trace, stored] = await Promise.all([
    loadRequired(deps.store, item.messageKey),
    readTrace(deps.store, messageId),
    loadOptionalJson<WorkflowInput>(deps.store, KEYS.envelope(messageId)),
  ]);
  const parsed = await parseMessage(raw, deps.config.limits);
  const identities = sendingIdentities(
    deps.config.outbound,
    deps.config.domains.map((d) => d.name.toLowerCase()),
  );
  const problems = sesLimitProblems(raw, parsed, identities);
  if (problems.length) return { refused: `SES would refuse it: ${problems.join('; ')}` };
  const mailFrom = stored?.envelope.mailFrom ?? trace?.envelope.mailFrom;
  if (!mailFrom) return { refused: 'its envelope (the sender) is no longer stored' };
  const verdict = trace?.verdict ?? {
    action: 'quarantine' as const,
    score: item.score,
    symbols: item.symbols ? item.symbols.split(' ') : [],
  };
  return sendThroughSes(
    { ...deps, sender },
    {
      messageId,
      mailFrom,
      recipients: [recipient],
      outgoing: outboundMessage(deps.config, raw, verdict, extraHeaders),
      claim: { from: claimFrom },
    },
  );
}
