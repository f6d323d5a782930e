// Relays one outgoing message to its envelope recipients, one SMTP transaction per domain, with the
// ledger making each (message, recipient) delivery happen at most once. Shared by deliver and release.

import type { Envelope } from '../engine/types.ts';
import { PermanentDeliveryError, TransientDeliveryError } from '../errors.ts';
import type { ClaimOptions, Disposition } from '../ports/index.ts';
import type { HandlerDeps } from './deps.ts';
import { CLAIM_LEASE_MS, groupByDomain } from './support.ts';

export interface RelayResult {
  readonly delivered: readonly string[];
  /** Recipients whose delivery is already recorded (or not claimable from its current state). */
  readonly skipped: readonly {
    readonly recipient: string;
    readonly state: Disposition | 'CLAIMED' | 'NONE';
  }[];
}

/**
 * Delivers `outgoing` to each recipient not yet delivered. Throws TransientDeliveryError or
 * PermanentDeliveryError after trying every domain; recipients delivered before the throw stay settled.
 */
export async function relay(
  deps: Pick<HandlerDeps, 'ledger' | 'mailer' | 'logger' | 'metrics'>,
  input: {
    readonly messageId: string;
    readonly envelope: Envelope;
    readonly outgoing: Uint8Array;
    readonly claim?: ClaimOptions;
  },
): Promise<RelayResult> {
  const delivered: string[] = [];
  const skipped: RelayResult['skipped'][number][] = [];
  const failures: (TransientDeliveryError | PermanentDeliveryError)[] = [];
  // Claim everyone before sending anything: if this worker dies mid-way, every recipient it had not
  // finished is left CLAIMED (a lease the reconciler sees), never without a row.
  const mine: string[] = [];
  for (const r of input.envelope.recipients) {
    if (await deps.ledger.claim(input.messageId, r, 'deliver', CLAIM_LEASE_MS, input.claim)) mine.push(r);
    else skipped.push({ recipient: r, state: (await deps.ledger.get(input.messageId))[r] ?? 'NONE' });
  }
  for (const [domain, claimed] of groupByDomain(mine)) {
    try {
      const result = await deps.mailer.send({
        envelope: { ...input.envelope, recipients: claimed },
        raw: input.outgoing,
        domain,
      });
      const rejected = new Map((result.rejected ?? []).map((r) => [r.recipient.toLowerCase(), r]));
      for (const r of claimed) {
        const refusal = rejected.get(r.toLowerCase());
        if (!refusal) {
          await deps.ledger.settle(input.messageId, r, 'DELIVERED', result.response.slice(0, 500));
          deps.logger.info('delivered', { messageId: input.messageId, recipient: r, status: 'DELIVERED' });
          deps.metrics.count('Dispositions', 'DELIVERED');
          delivered.push(r);
          continue;
        }
        await deps.ledger.abandon(input.messageId, r);
        const message = `${r} refused: ${refusal.response}`;
        failures.push(
          (refusal.responseCode ?? 0) >= 500
            ? new PermanentDeliveryError(message, refusal.responseCode)
            : new TransientDeliveryError(message, refusal.responseCode),
        );
      }
    } catch (error) {
      // Give the claims back so the retry (or the DeliveryFailed quarantine) can claim them.
      await Promise.all(claimed.map((r) => deps.ledger.abandon(input.messageId, r)));
      if (error instanceof TransientDeliveryError || error instanceof PermanentDeliveryError)
        failures.push(error);
      else
        failures.push(
          new TransientDeliveryError(`delivery to ${domain} failed: ${(error as Error).message}`),
        );
    }
  }
  // A transient failure is retried first: the retry skips everyone already delivered.
  for (const f of failures) {
    deps.logger.warn('delivery failed', {
      messageId: input.messageId,
      errorName: f.name,
      transient: f instanceof TransientDeliveryError,
      error: f.message.slice(0, 300),
    });
  }
  const failure = failures.find((f) => f instanceof TransientDeliveryError) ?? failures[0];
  if (failure) throw failure;
  // Someone else holds a live claim: retry later rather than report success for an unsent message.
  const busy = skipped.find((s) => s.state === 'CLAIMED');
  if (busy) throw new TransientDeliveryError(`${busy.recipient} is being delivered by another attempt`);
  return { delivered, skipped };
}
