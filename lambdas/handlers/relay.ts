// Relays one outgoing message to its envelope recipients, one SMTP transaction per domain, with the
// ledger making each (message, recipient) delivery happen at most once. Shared by deliver and release.

import type { Envelope } from '../engine/types.ts';
import { PermanentDeliveryError, TransientDeliveryError, UnconfirmedDeliveryError } from '../errors.ts';
import type { ClaimOptions, LedgerState } from '../ports/index.ts';
import type { HandlerDeps } from './deps.ts';
import { CLAIM_LEASE_MS, groupByDomain } from './support.ts';

export interface RelayResult {
  readonly delivered: readonly string[];
  /** Recipients the whole message went to without a reply: recorded UNCONFIRMED, never re-sent. */
  readonly unconfirmed?: readonly string[];
  /** Recipients whose delivery is already recorded (or not claimable from its current state). */
  readonly skipped: readonly {
    readonly recipient: string;
    readonly state: LedgerState | 'NONE';
  }[];
}

type Deps = Pick<HandlerDeps, 'ledger' | 'mailer' | 'logger' | 'metrics'>;

/**
 * Delivers `outgoing` to each recipient not yet delivered, one SMTP transaction per domain, the domains
 * in parallel so that several of them take no longer than one (the delivery budget). Throws
 * TransientDeliveryError or PermanentDeliveryError after trying every domain; recipients delivered (or
 * unconfirmed) before the throw stay settled.
 */
export async function relay(
  deps: Deps,
  input: {
    readonly messageId: string;
    readonly envelope: Envelope;
    readonly outgoing: Uint8Array;
    readonly claim?: ClaimOptions;
  },
): Promise<RelayResult> {
  const skipped: RelayResult['skipped'][number][] = [];
  // Claim everyone before sending anything: if this worker dies mid-way, every recipient it had not
  // finished is left CLAIMED (a lease the reconciler sees), never without a row.
  const mine: string[] = [];
  // Read once, at the first refused claim: a recipient's recorded state cannot move back meanwhile.
  let states: Record<string, LedgerState> | undefined;
  for (const r of input.envelope.recipients) {
    if (await deps.ledger.claim(input.messageId, r, 'deliver', CLAIM_LEASE_MS, input.claim)) mine.push(r);
    else {
      states ??= await deps.ledger.get(input.messageId);
      skipped.push({ recipient: r, state: states[r] ?? 'NONE' });
    }
  }
  const outcomes = await Promise.all(
    [...groupByDomain(mine)].map(([domain, claimed]) => sendToDomain(deps, input, domain, claimed)),
  );
  const delivered = outcomes.flatMap((o) => o.delivered);
  const unconfirmed = outcomes.flatMap((o) => o.unconfirmed);
  const failures = outcomes.flatMap((o) => o.failures);
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
  const busy = skipped.find((s) => s.state === 'CLAIMED' || s.state === 'ATTEMPTING');
  if (busy) throw new TransientDeliveryError(`${busy.recipient} is being delivered by another attempt`);
  return { delivered, ...(unconfirmed.length ? { unconfirmed } : {}), skipped };
}

/** One SMTP transaction for the claimed recipients of one domain; every recipient ends settled or given back. */
async function sendToDomain(
  deps: Deps,
  input: { readonly messageId: string; readonly envelope: Envelope; readonly outgoing: Uint8Array },
  domain: string,
  claimed: readonly string[],
): Promise<{
  delivered: string[];
  unconfirmed: string[];
  failures: (TransientDeliveryError | PermanentDeliveryError)[];
}> {
  const { messageId } = input;
  const delivered: string[] = [];
  const failures: (TransientDeliveryError | PermanentDeliveryError)[] = [];
  let answered = false;
  try {
    const result = await deps.mailer.send({
      envelope: { ...input.envelope, recipients: [...claimed] },
      raw: input.outgoing,
      domain,
      // Recorded just before the commit (SMTP's final dot): an attempt that dies before it delivered
      // nothing and may be retried; one that dies after it is UNCONFIRMED, never sent blindly again.
      beforeCommit: async () => {
        for (const r of claimed) await deps.ledger.attempt(messageId, r, CLAIM_LEASE_MS);
      },
    });
    answered = true;
    const rejected = new Map((result.rejected ?? []).map((r) => [r.recipient.toLowerCase(), r]));
    for (const r of claimed) {
      const refusal = rejected.get(r.toLowerCase());
      if (!refusal) {
        await deps.ledger.settle(messageId, r, 'DELIVERED', result.response.slice(0, 500));
        deps.logger.info('delivered', { messageId, recipient: r, status: 'DELIVERED' });
        deps.metrics.count('Dispositions', 'DELIVERED');
        delivered.push(r);
        continue;
      }
      await deps.ledger.abandon(messageId, r);
      const message = `${r} refused: ${refusal.response}`;
      failures.push(
        (refusal.responseCode ?? 0) >= 500
          ? new PermanentDeliveryError(message, refusal.responseCode)
          : new TransientDeliveryError(message, refusal.responseCode),
      );
    }
    return { delivered, unconfirmed: [], failures };
  } catch (error) {
    // The server answered but recording it failed: the rows stay ATTEMPTING (never re-sent) and the
    // workflow retries the recording.
    if (answered) throw error;
    if (error instanceof UnconfirmedDeliveryError) {
      // The server may have it: record that truth, and send nothing again.
      for (const r of claimed) {
        await deps.ledger.settle(messageId, r, 'UNCONFIRMED', error.message);
        deps.logger.warn('delivery unconfirmed', { messageId, recipient: r, status: 'UNCONFIRMED' });
        deps.metrics.count('Dispositions', 'UNCONFIRMED');
      }
      return { delivered, unconfirmed: [...claimed], failures };
    }
    // Not sent: give the claims back so the retry (or the DeliveryFailed quarantine) can claim them.
    await Promise.all(claimed.map((r) => deps.ledger.abandon(messageId, r)));
    if (error instanceof TransientDeliveryError || error instanceof PermanentDeliveryError)
      failures.push(error);
    else
      failures.push(new TransientDeliveryError(`delivery to ${domain} failed: ${(error as Error).message}`));
    return { delivered, unconfirmed: [], failures };
  }
}
