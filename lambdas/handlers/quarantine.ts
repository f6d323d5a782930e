// Quarantine: holds a message for review. Called for verdicts quarantine/reject, after a permanent
// delivery failure ($.deliveryFailure), as Defer after a transient one ($.deferral: queued DEFERRED for
// the reconciler to retry) and as the workflow's FailSafe ($.failure). Idempotent per (message,
// recipient): the ledger claim decides who writes; recipients already disposed are skipped.

import { headerValues } from '../contracts/header-block.ts';
import { MALWARE_SYMBOLS } from '../engine/decide.ts';
import type { ParsedMessage } from '../engine/types.ts';
import { TransientError } from '../errors.ts';
import type { DecidedState, QuarantineItem, QuarantineStatus, WorkflowInput } from '../ports/index.ts';
import { nextAttemptAt } from './deferred.ts';
import { type HandlerDeps, KEYS } from './deps.ts';
import { CLAIM_LEASE_MS, describeStatesError, loadOptionalJson, type StatesError } from './support.ts';

/** Quarantine's input: anything from the workflow input to a full DecidedState, plus a caught error. */
export interface QuarantineState extends WorkflowInput {
  readonly parse?: DecidedState['parse'];
  readonly verdict?: DecidedState['verdict'];
  readonly deliveryFailure?: StatesError;
  /** A transient delivery failure that outlasted the workflow's retries: the message is queued. */
  readonly deferral?: StatesError;
  readonly failure?: StatesError;
}

export interface QuarantineResult {
  readonly messageId: string;
  readonly status: QuarantineStatus;
  readonly quarantined: readonly string[];
  readonly skipped: readonly string[];
}

const DAY_SECONDS = 86_400;
const MAX_FIELD_CHARS = 500;

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
    const malware = (state.verdict?.symbols ?? []).some((s) => MALWARE_SYMBOLS.includes(s));
    // Claim everyone first, so a crash leaves CLAIMED rows (which the reconciler re-drives), not gaps.
    for (const recipient of state.envelope.recipients) {
      if (await deps.ledger.claim(state.messageId, recipient, 'quarantine', CLAIM_LEASE_MS)) {
        quarantined.push(recipient);
        continue;
      }
      const current = (await deps.ledger.get(state.messageId))[recipient];
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
      skipped.push(recipient);
    }
    for (const recipient of quarantined) {
      const item: QuarantineItem = {
        messageId: state.messageId,
        recipient,
        sender: sender.slice(0, MAX_FIELD_CHARS),
        subject: subject.slice(0, MAX_FIELD_CHARS),
        score: state.verdict?.score ?? 0,
        symbols: (state.verdict?.symbols ?? []).join(' '),
        reason: reason.slice(0, 1000),
        status,
        receivedAt: state.receivedAt,
        messageKey: state.key,
        ...(state.direction === 'outbound' ? { direction: 'outbound' as const } : {}),
        expiresAt: Math.floor(now.getTime() / 1000) + deps.config.retention.quarantineDays * DAY_SECONDS,
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

/** Sender and subject from the parsed JSON, else from a bounded read of the raw header block. */
async function describe(
  deps: Pick<HandlerDeps, 'store'>,
  state: QuarantineState,
): Promise<{ sender: string; subject: string }> {
  try {
    const key = state.parse?.parsedKey ?? KEYS.parsed(state.messageId);
    const parsed = await loadOptionalJson<ParsedMessage>(deps.store, key);
    if (parsed) return { sender: parsed.from?.address ?? state.envelope.mailFrom, subject: parsed.subject };
  } catch {
    // Fall through to the raw header block: the fail-safe must not fail for want of a description.
  }
  try {
    const raw = await deps.store.get(state.key);
    return {
      sender: headerValues(raw, 'from')[0] ?? state.envelope.mailFrom,
      subject: headerValues(raw, 'subject')[0] ?? '',
    };
  } catch {
    // The item still matters more than its description: the reason says what went wrong.
    return { sender: state.envelope.mailFrom, subject: '' };
  }
}
