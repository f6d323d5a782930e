// Quarantine: holds a message for review. Called for verdicts quarantine/reject, after a permanent
// delivery failure ($.deliveryFailure), as Defer after a transient one ($.deferral: queued DEFERRED for
// the reconciler to retry) and as the workflow's FailSafe ($.failure). Idempotent per (message,
// recipient): the ledger claim decides who writes; recipients already disposed are skipped.

import { MALWARE_SYMBOLS } from '../engine/decide.ts';
import { TransientError } from '../errors.ts';
import type { LedgerState, QuarantineItem, QuarantineStatus } from '../ports/index.ts';
import { nextAttemptAt } from './deferred.ts';
import type { HandlerDeps } from './deps.ts';
import { describe, heldItem, type QuarantineState } from './held-item.ts';
import { CLAIM_LEASE_MS, describeStatesError } from './support.ts';
import { recordUnconfirmed } from './unconfirmed.ts';

export type { QuarantineState } from './held-item.ts';

export interface QuarantineResult {
  readonly messageId: string;
  readonly status: QuarantineStatus;
  readonly quarantined: readonly string[];
  readonly skipped: readonly string[];
}

export function createQuarantineHandler(
  deps: Pick<
    HandlerDeps,
    'config' | 'store' | 'ledger' | 'pending' | 'quarantine' | 'clock' | 'logger' | 'metrics'
  >,
) {
  return async (state: QuarantineState): Promise<QuarantineResult> => {
    const status: QuarantineStatus = state.failure
      ? 'QUARANTINED'
      : state.deferral
        ? 'DEFERRED'
        : state.deliveryFailure
          ? 'DELIVERY_FAILED'
          : 'QUARANTINED';
    const reason = reasonFor(state);
    const { sender, subject } = await describe(deps, state);
    const now = deps.clock();
    const quarantined: string[] = [];
    const skipped: string[] = [];
    const unresolved: string[] = [];
    const unconfirmed: string[] = [];
    const malware = (state.verdict?.symbols ?? []).some((s) => MALWARE_SYMBOLS.includes(s));
    // Read once, when the first claim is refused: the states of the others cannot go back meanwhile.
    let states: Record<string, LedgerState> | undefined;
    // Claim everyone first, so a crash leaves CLAIMED rows (which the reconciler re-drives), not gaps.
    for (const recipient of state.envelope.recipients) {
      if (await deps.ledger.claim(state.messageId, recipient, 'quarantine', CLAIM_LEASE_MS)) {
        quarantined.push(recipient);
        continue;
      }
      states ??= await deps.ledger.get(state.messageId);
      const current = states[recipient];
      if (current === 'ATTEMPTING') {
        // An attempt sent (or is sending) it: not ours to hold. The pending entry stays, so the
        // reconciler records it UNCONFIRMED once that attempt's lease is over.
        unresolved.push(recipient);
        continue;
      }
      if (current === 'CLAIMED') {
        await Promise.all(quarantined.map((r) => deps.ledger.abandon(state.messageId, r)));
        throw new TransientError(`${recipient} is claimed by another attempt`);
      }
      if (current === 'UNCONFIRMED') unconfirmed.push(recipient);
      skipped.push(recipient);
    }
    for (const recipient of quarantined) {
      const item: QuarantineItem = {
        ...heldItem(deps, state, { sender, subject }, recipient, now),
        reason: reason.slice(0, 1000),
        status,
        ...(malware ? { adminRelease: true } : {}),
        ...(status === 'DEFERRED' && state.deferral
          ? {
              attempts: 1,
              nextAttemptAt: nextAttemptAt(deps.config, state.receivedAt, 1, now),
              lastError: describeStatesError(state.deferral),
            }
          : {}),
      };
      await deps.quarantine.put(item);
      await deps.ledger.settle(state.messageId, recipient, status, item.reason);
      // The fail-safe means a step broke: an error line, so it stands out from policy quarantines.
      const line = { messageId: state.messageId, recipient, status, reason: item.reason.slice(0, 300) };
      if (state.failure) deps.logger.error('quarantined by fail-safe', line);
      else if (status === 'QUARANTINED') deps.logger.info('quarantined', line);
      else deps.logger.warn(status === 'DEFERRED' ? 'delivery deferred' : 'delivery failed', line);
      deps.metrics.count('Dispositions', status);
    }
    await recordUnconfirmed(deps, state, unconfirmed);
    // Every recipient is now settled here or was already: the message is no longer pending.
    if (!unresolved.length) await deps.pending.remove(state.messageId);
    return { messageId: state.messageId, status, quarantined, skipped };
  };
}

function reasonFor(state: QuarantineState): string {
  if (state.failure) return `fail-safe: ${describeStatesError(state.failure)}`;
  if (state.deferral) return `delivery deferred: ${describeStatesError(state.deferral)}`;
  if (state.deliveryFailure) return `delivery failed: ${describeStatesError(state.deliveryFailure)}`;
  return state.verdict?.reason ?? 'quarantined';
}
