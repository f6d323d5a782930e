// The delivery queue behind the workflow's Defer state: retries due DEFERRED items through the release
// path (same verdict headers, a ledger claim from DEFERRED) with exponential backoff, as an MTA retries
// its queue. A 5xx, or still failing after delivery.maxQueueHours, makes the item DELIVERY_FAILED.

import type { SegConfig } from '../config/schema.ts';
import { PermanentDeliveryError } from '../errors.ts';
import type { QuarantineItem } from '../ports/index.ts';
import type { HandlerDeps } from './deps.ts';
import { heldMessageOf } from './held-item.ts';
import { redeliver } from './redeliver.ts';
import { CLAIM_LEASE_MS, domainOf } from './support.ts';
import { recordUnconfirmed } from './unconfirmed.ts';

/** First retry 15 minutes after a failed round (the deployed reconciler's period), doubling... */
export const RETRY_FIRST_DELAY_MS = 15 * 60_000;
/** ...up to every 4 hours, so a server back after a long outage waits at most that long. */
export const RETRY_MAX_DELAY_MS = 4 * 3_600_000;
/** Deliveries tried per run, so a long outage's backlog drains over several runs. */
export const DEFERRED_MAX_RETRIES = 50;

const HOUR_MS = 3_600_000;
const MAX_ERROR_CHARS = 500;

/**
 * When to try again after `attempts` failed rounds: the backoff, but never after the queue lifetime
 * ends (one last try at the deadline, rather than the first try after it) and never before `now`.
 */
export function nextAttemptAt(config: SegConfig, receivedAt: string, attempts: number, now: Date): string {
  const delay = Math.min(RETRY_FIRST_DELAY_MS * 2 ** Math.max(0, attempts - 1), RETRY_MAX_DELAY_MS);
  const deadline = Date.parse(receivedAt) + config.delivery.maxQueueHours * HOUR_MS;
  const next = Number.isFinite(deadline) ? Math.min(now.getTime() + delay, deadline) : now.getTime() + delay;
  return new Date(Math.max(now.getTime(), next)).toISOString();
}

/** What one run did, each entry `messageId/recipient`. */
export interface DeferredResult {
  readonly delivered: readonly string[];
  readonly rescheduled: readonly string[];
  readonly failed: readonly string[];
  /** Due, but not tried this run: their server already failed in this run, or time ran out. */
  readonly postponed: readonly string[];
}

type Outcome = 'delivered' | 'rescheduled' | 'failed' | 'settled';
type Deps = Pick<
  HandlerDeps,
  'config' | 'store' | 'ledger' | 'quarantine' | 'mailer' | 'clock' | 'logger' | 'metrics'
>;

/** Retries the due DEFERRED items, oldest first, while `hasTime()` says a delivery still fits. */
export async function retryDeferred(
  deps: Deps,
  options: { readonly limit?: number; readonly hasTime?: () => boolean } = {},
): Promise<DeferredResult> {
  const now = deps.clock();
  const due = await deps.quarantine.listDue(now, options.limit ?? DEFERRED_MAX_RETRIES);
  const result = { delivered: [], rescheduled: [], failed: [], postponed: [] } as Record<
    keyof DeferredResult,
    string[]
  >;
  // A server that just failed is very likely still down: its other messages wait for the next run
  // instead of each spending the connection timeout now (Postfix marks such a destination dead too).
  const down = new Set<string>();
  for (const item of due) {
    const id = `${item.messageId}/${item.recipient}`;
    const domain = domainOf(item.recipient);
    if (down.has(domain) || (options.hasTime && !options.hasTime())) {
      result.postponed.push(id);
      continue;
    }
    const outcome = await retryOne(deps, item, now);
    if (outcome === 'rescheduled') down.add(domain);
    if (outcome !== 'settled') result[outcome].push(id);
  }
  return result;
}

async function retryOne(deps: Deps, item: QuarantineItem, now: Date): Promise<Outcome> {
  const { messageId, recipient } = item;
  const attempts = (item.attempts ?? 0) + 1;
  try {
    const relayed = await redeliver(deps, item, ['DEFERRED']);
    if (relayed.delivered.length) {
      // Kept, not deleted: `seg quarantine list --status DELIVERED` shows what the queue delivered,
      // after how many attempts and past which error, until the item's TTL removes it.
      await deps.quarantine.update(messageId, recipient, 'DEFERRED', {
        status: 'DELIVERED',
        attempts,
        nextAttemptAt: undefined,
      });
      return 'delivered';
    }
    if (relayed.unconfirmed?.length) {
      await recordUnconfirmed(deps, heldMessageOf(item), relayed.unconfirmed);
      return 'settled';
    }
    // The ledger row left DEFERRED elsewhere (a release, or a crash after the ledger write): the
    // ledger is the record of what happened, so the item follows it.
    const state = relayed.skipped[0]?.state;
    if (state && state !== 'CLAIMED' && state !== 'ATTEMPTING' && state !== 'NONE' && state !== 'DEFERRED') {
      await deps.quarantine.update(messageId, recipient, 'DEFERRED', {
        status: state,
        nextAttemptAt: undefined,
      });
    }
    return 'settled';
  } catch (error) {
    const lastError = `${(error as Error).name}: ${(error as Error).message}`.slice(0, MAX_ERROR_CHARS);
    const hours = (now.getTime() - Date.parse(item.receivedAt)) / HOUR_MS;
    if (!(error instanceof PermanentDeliveryError) && !(hours >= deps.config.delivery.maxQueueHours)) {
      await deps.quarantine.update(messageId, recipient, 'DEFERRED', {
        attempts,
        nextAttemptAt: nextAttemptAt(deps.config, item.receivedAt, attempts, now),
        lastError,
      });
      deps.logger.info('delivery deferred', { messageId, recipient, status: 'DEFERRED', attempts });
      return 'rescheduled';
    }
    const reason =
      error instanceof PermanentDeliveryError
        ? `delivery failed: ${lastError}`
        : `gave up after ${attempts} attempts over ${Math.round(hours)} hours: ${lastError}`;
    // Ledger first: if the item update is lost, the next run aligns the item with the ledger.
    if (
      !(await deps.ledger.claim(messageId, recipient, 'quarantine', CLAIM_LEASE_MS, { from: ['DEFERRED'] }))
    )
      return 'settled';
    await deps.ledger.settle(messageId, recipient, 'DELIVERY_FAILED', reason);
    await deps.quarantine.update(messageId, recipient, 'DEFERRED', {
      status: 'DELIVERY_FAILED',
      reason: reason.slice(0, 1000),
      attempts,
      nextAttemptAt: undefined,
      lastError,
    });
    deps.logger.warn('delivery failed', { messageId, recipient, status: 'DELIVERY_FAILED', reason });
    deps.metrics.count('Dispositions', 'DELIVERY_FAILED');
    return 'failed';
  }
}
