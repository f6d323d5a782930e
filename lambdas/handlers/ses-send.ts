// Hands one outgoing message to SES for its recipients, in batches of SESv2's 50 per call, with the
// ledger making each (message, recipient) send at most once: claimed, marked ATTEMPTING just before
// the call (so a worker that dies during it leaves UNCONFIRMED, never a second copy), then SENT.
// Shared by the Send step and by release of held outbound mail.

import type { SegConfig } from '../config/schema.ts';
import type { Action } from '../engine/types.ts';
import { PermanentDeliveryError, TransientDeliveryError } from '../errors.ts';
import type { ClaimOptions, LedgerState } from '../ports/index.ts';
import type { OutboundHandlerDeps } from './deps.ts';
import { buildOutgoingMessage } from './outgoing-message.ts';
import { CLAIM_LEASE_MS } from './support.ts';
import { authservId } from './verdict-headers.ts';

/** SESv2 SendEmail's recipient limit per call. */
export const SES_MAX_RECIPIENTS = 50;

/**
 * The bytes seg sends outbound: the verdict headers and X-SEG-Direction prepended, no subject tag (the
 * recipient is outside), every body byte the original's. `extra` adds fields such as X-SEG-Released.
 */
export function outboundMessage(
  config: SegConfig,
  raw: Uint8Array,
  verdict: { readonly action: Action; readonly score: number; readonly symbols: readonly string[] },
  extra: readonly (readonly [string, string])[] = [],
): Uint8Array {
  return buildOutgoingMessage(raw, {
    action: verdict.action,
    score: verdict.score,
    symbols: verdict.symbols,
    authservId: authservId(config),
    extra: [['X-SEG-Direction', 'outbound'], ...extra],
  });
}

export interface SesSendResult {
  readonly sent: readonly string[];
  /** Recipients already disposed of (or held by another attempt), with their ledger state. */
  readonly skipped: readonly { readonly recipient: string; readonly state: LedgerState | 'NONE' }[];
  /** SES message id per batch. */
  readonly sesMessageIds: readonly string[];
}

/**
 * Sends `outgoing` to each recipient this call can claim. Throws TransientDeliveryError or
 * PermanentDeliveryError after trying every batch; recipients sent before the throw stay SENT, the
 * others are given back (to the disposition they were claimed from, with `claim.from`).
 */
export async function sendThroughSes(
  deps: Pick<OutboundHandlerDeps, 'config' | 'ledger' | 'sender' | 'logger' | 'metrics'>,
  input: {
    readonly messageId: string;
    readonly mailFrom: string;
    readonly recipients: readonly string[];
    readonly outgoing: Uint8Array;
    readonly claim?: ClaimOptions;
  },
): Promise<SesSendResult> {
  const { messageId } = input;
  const mine: string[] = [];
  const skipped: { recipient: string; state: LedgerState | 'NONE' }[] = [];
  for (const r of input.recipients) {
    if (await deps.ledger.claim(messageId, r, 'send', CLAIM_LEASE_MS, input.claim)) mine.push(r);
    else skipped.push({ recipient: r, state: (await deps.ledger.get(messageId))[r] ?? 'NONE' });
  }
  const sent: string[] = [];
  const sesMessageIds: string[] = [];
  const failures: Error[] = [];
  for (let i = 0; i < mine.length; i += SES_MAX_RECIPIENTS) {
    const batch = mine.slice(i, i + SES_MAX_RECIPIENTS);
    let sesMessageId: string;
    try {
      for (const r of batch) await deps.ledger.attempt(messageId, r, CLAIM_LEASE_MS);
      ({ sesMessageId } = await deps.sender.send({
        raw: input.outgoing,
        from: input.mailFrom,
        recipients: batch,
        configurationSet: deps.config.outbound.configurationSet,
      }));
    } catch (error) {
      // SES answered with a refusal or the call never went out: not sent, so the claims go back.
      await Promise.all(batch.map((r) => deps.ledger.abandon(messageId, r)));
      failures.push(
        error instanceof TransientDeliveryError || error instanceof PermanentDeliveryError
          ? error
          : new TransientDeliveryError(`SES send failed: ${(error as Error).message}`),
      );
      continue;
    }
    sesMessageIds.push(sesMessageId);
    // SES has it: a failure to record that leaves the rows ATTEMPTING, which is never sent again.
    for (const r of batch) {
      await deps.ledger.settle(messageId, r, 'SENT', `ses ${sesMessageId}`);
      deps.metrics.count('Dispositions', 'SENT');
      sent.push(r);
    }
    deps.logger.info('sent', { messageId, sesMessageId, recipients: batch.length });
  }
  const failure = failures.find((f) => f instanceof TransientDeliveryError) ?? failures[0];
  if (failure) {
    deps.logger.warn('send failed', { messageId, error: failure.message.slice(0, 300) });
    throw failure;
  }
  return { sent, skipped, sesMessageIds };
}
