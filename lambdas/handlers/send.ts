// Send: hands an outbound message to SES (SESv2 SendEmail, raw, with the configuration set), the
// gateway's headers prepended and every body byte the original's. SES takes 50 recipients per call,
// so the envelope is sent in batches; the ledger makes each (message, recipient) send at most once.

import { PermanentDeliveryError, TransientDeliveryError } from '../errors.ts';
import type { DecidedState } from '../ports/index.ts';
import type { OutboundHandlerDeps } from './deps.ts';
import { buildOutgoingMessage } from './outgoing-message.ts';
import { CLAIM_LEASE_MS, loadRequired } from './support.ts';
import { authservId } from './verdict-headers.ts';

/** SESv2 SendEmail's recipient limit per call. */
export const SES_MAX_RECIPIENTS = 50;

export interface SendOutcome {
  readonly messageId: string;
  readonly sent: readonly string[];
  readonly skipped: readonly string[];
  /** SES message id per batch. */
  readonly sesMessageIds: readonly string[];
}

export function createSendHandler(
  deps: Pick<OutboundHandlerDeps, 'config' | 'store' | 'ledger' | 'sender' | 'logger' | 'metrics'>,
) {
  return async (state: DecidedState): Promise<SendOutcome> => {
    const raw = await loadRequired(deps.store, state.key);
    // No subject tag outbound: the recipient is outside; the X-SEG headers say what seg found.
    const outgoing = buildOutgoingMessage(raw, {
      action: state.verdict.action,
      score: state.verdict.score,
      symbols: state.verdict.symbols,
      authservId: authservId(deps.config),
      extra: [['X-SEG-Direction', 'outbound']],
    });
    const mine: string[] = [];
    const skipped: string[] = [];
    for (const r of state.envelope.recipients) {
      if (await deps.ledger.claim(state.messageId, r, 'send', CLAIM_LEASE_MS)) mine.push(r);
      else skipped.push(r);
    }
    const sent: string[] = [];
    const sesMessageIds: string[] = [];
    const failures: Error[] = [];
    for (let i = 0; i < mine.length; i += SES_MAX_RECIPIENTS) {
      const batch = mine.slice(i, i + SES_MAX_RECIPIENTS);
      try {
        const { sesMessageId } = await deps.sender.send({
          raw: outgoing,
          from: state.envelope.mailFrom,
          recipients: batch,
          configurationSet: deps.config.outbound.configurationSet,
        });
        sesMessageIds.push(sesMessageId);
        for (const r of batch) {
          await deps.ledger.settle(state.messageId, r, 'SENT', `ses ${sesMessageId}`);
          deps.metrics.count('Dispositions', 'SENT');
          sent.push(r);
        }
        deps.logger.info('sent', { messageId: state.messageId, sesMessageId, recipients: batch.length });
      } catch (error) {
        await Promise.all(batch.map((r) => deps.ledger.abandon(state.messageId, r)));
        failures.push(
          error instanceof TransientDeliveryError || error instanceof PermanentDeliveryError
            ? error
            : new TransientDeliveryError(`SES send failed: ${(error as Error).message}`),
        );
      }
    }
    const failure = failures.find((f) => f instanceof TransientDeliveryError) ?? failures[0];
    if (failure) {
      deps.logger.warn('send failed', { messageId: state.messageId, error: failure.message.slice(0, 300) });
      throw failure;
    }
    return { messageId: state.messageId, sent, skipped, sesMessageIds };
  };
}
