// Reconcile: the scheduled safety net. First re-ingests the SES events whose ingest failed every retry
// (the ingest failure queue), with the same ingest logic, so they keep their real envelope (Bcc too),
// and, in AWS, ingests any stored message whose ingest never ran (SES's arrival notices).
// Then walks the pending index (accepted messages with no final disposition, by due time, never a bucket
// listing) and re-starts each one's workflow (inbound, or outbound for submissions) with its stored
// envelope, with backoff between re-drives;
// then retries the due DEFERRED deliveries (lambdas/handlers/deferred.ts). Recipients are never guessed
// from headers: a message whose envelope is gone is held for postmaster with the reason.

import type { FailedIngestQueue, PendingMessage, WorkflowInput } from '../ports/index.ts';
import { DEFERRED_MAX_RETRIES, type DeferredResult, RETRY_MAX_DELAY_MS, retryDeferred } from './deferred.ts';
import { type HandlerDeps, KEYS, type OutboundHandlerDeps } from './deps.ts';
import { createIngestHandler, messageIdsOf, RECONCILE_MIN_AGE_MS } from './ingest.ts';
import { createQuarantineHandler } from './quarantine.ts';
import { loadOptionalJson } from './support.ts';

export { RECONCILE_MIN_AGE_MS };
/** Re-drives per run, so a backlog drains over several runs instead of flooding the workflow. */
export const RECONCILE_MAX_REDRIVES = 50;
/** Failed ingest events re-ingested per run; the rest wait in the queue for the next run. */
export const RECONCILE_MAX_REINGESTS = 50;
/** Pending entries examined per run; the rest are read by the next run (they stay due). */
export const RECONCILE_MAX_EXAMINED = 500;

/** The reconcile event. The schedule sends none; the local runtime names when its predecessor died. */
export interface ReconcileEvent {
  /**
   * ISO-8601 time before which no workflow can still be running (the process that ran them is gone):
   * messages received earlier are re-driven at once instead of after RECONCILE_MIN_AGE_MS.
   */
  readonly orphanedBefore?: string;
}

export interface ReconcileResult {
  /** Message ids whose failed ingest was re-ingested (workflow started, queue record removed). */
  readonly reingested: readonly string[];
  /** Queue ids of failed ingests that failed again: they stay in the queue for the next run. */
  readonly reingestFailed: readonly string[];
  /** Message ids SES stored but whose ingest never ran: ingested now from SES's arrival notice. */
  readonly recovered: readonly string[];
  /** Pending entries looked at. */
  readonly examined: number;
  readonly redriven: readonly { readonly messageId: string; readonly redrives: number }[];
  /** Messages whose envelope is missing: held for postmaster (never sent to header To/Cc). */
  readonly heldWithoutEnvelope: readonly string[];
  /** Pending entries dropped: disposed already, or never stored (no 250 was given). */
  readonly cleared: readonly string[];
  /** Pending entries that could not be read or re-driven this run (logged; due again next run). */
  readonly failed: readonly string[];
  /** The deferred-delivery retries of this run. */
  readonly deferred: DeferredResult;
}

/** Per-run bounds; the defaults suit a scheduled Lambda. */
export interface ReconcileLimits {
  /** @default RECONCILE_MAX_REINGESTS */
  readonly maxReingests?: number;
  /** @default RECONCILE_MAX_REDRIVES */
  readonly maxRedrives?: number;
  /** @default RECONCILE_MAX_EXAMINED */
  readonly maxExamined?: number;
  /** @default DEFERRED_MAX_RETRIES */
  readonly maxDeliveries?: number;
}

/** Stop this long before the Lambda timeout, so the run returns its report instead of being killed. */
const RESERVE_MS = 10_000;
/** A delivery attempt's whole budget (DELIVERY_BUDGET) plus margin: start none closer than this. */
const DELIVERY_RESERVE_MS = 100_000;

/** When a message re-driven `redrives` times is next due: 15 minutes, doubling, at most 4 hours. */
export function nextRedriveAt(now: Date, redrives: number): string {
  const delay = Math.min(RECONCILE_MIN_AGE_MS * 2 ** Math.max(0, redrives - 1), RETRY_MAX_DELAY_MS);
  return new Date(now.getTime() + delay).toISOString();
}

/** `outboundStarter` re-drives outbound submissions; without it they are left due (and logged). */
type Deps = Omit<HandlerDeps, 'resolver'> & Partial<Pick<OutboundHandlerDeps, 'outboundStarter'>>;

export function createReconcileHandler(deps: Deps, limits: ReconcileLimits = {}) {
  const maxRedrives = limits.maxRedrives ?? RECONCILE_MAX_REDRIVES;
  const ingest = createIngestHandler(deps);
  const hold = createQuarantineHandler(deps);
  return async (
    event?: ReconcileEvent | null,
    context?: { getRemainingTimeInMillis(): number },
  ): Promise<ReconcileResult> => {
    const hasTime = () => !context || context.getRemainingTimeInMillis() >= RESERVE_MS;
    const maxReingests = limits.maxReingests ?? RECONCILE_MAX_REINGESTS;
    const { ingested: reingested, failed: reingestFailed } = await drainSesEvents(
      deps.failedIngests,
      { ...deps, ingest, hasTime },
      maxReingests,
    );
    // Arrivals are every stored message: most were ingested long ago and are only acknowledged.
    const { ingested: recovered, failed: recoverFailed } = deps.arrivals
      ? await drainSesEvents(
          deps.arrivals,
          { ...deps, ingest, hasTime, unlessIngested: true },
          maxReingests * 10,
        )
      : { ingested: [], failed: [] };
    // Their workflow has just started: the pending walk below must not start it again.
    const justStarted = new Set([...reingested, ...recovered]);

    const now = deps.clock();
    // Entries are first due RECONCILE_MIN_AGE_MS after receipt; an orphan cut-off pulls that forward.
    const orphanedBefore = Date.parse(event?.orphanedBefore ?? '');
    const dueBefore = new Date(
      Number.isFinite(orphanedBefore)
        ? Math.max(now.getTime(), orphanedBefore + RECONCILE_MIN_AGE_MS)
        : now.getTime(),
    );
    const entries = await deps.pending.due(dueBefore, limits.maxExamined ?? RECONCILE_MAX_EXAMINED);
    const result = { redriven: [], heldWithoutEnvelope: [], cleared: [] } as {
      redriven: { messageId: string; redrives: number }[];
      heldWithoutEnvelope: string[];
      cleared: string[];
    };
    let examined = 0;
    const failed: string[] = [];
    for (const entry of entries) {
      if (result.redriven.length >= maxRedrives || !hasTime()) break;
      examined++;
      if (justStarted.has(entry.messageId)) continue;
      // One unreadable entry must not stop the others; it stays due for the next run.
      try {
        await reconcileOne(
          deps,
          hold,
          entry,
          now,
          result,
          Number.isFinite(orphanedBefore) ? new Date(orphanedBefore) : undefined,
        );
      } catch (error) {
        failed.push(entry.messageId);
        deps.logger.warn('cannot reconcile; left for the next run', {
          messageId: entry.messageId,
          ...errorFields(error),
        });
      }
    }
    const deferred = await retryDeferred(deps, {
      limit: limits.maxDeliveries ?? DEFERRED_MAX_RETRIES,
      hasTime: () => !context || context.getRemainingTimeInMillis() >= DELIVERY_RESERVE_MS,
    });
    deps.logger.info('reconciled', {
      reingested: reingested.length,
      reingestFailed: reingestFailed.length,
      examined,
      redriven: result.redriven.length,
      heldWithoutEnvelope: result.heldWithoutEnvelope.length,
      cleared: result.cleared.length,
      deferredDelivered: deferred.delivered.length,
      deferredRescheduled: deferred.rescheduled.length,
      deferredFailed: deferred.failed.length,
      deferredPostponed: deferred.postponed.length,
    });
    return {
      reingested,
      reingestFailed: [...reingestFailed, ...recoverFailed],
      recovered,
      examined,
      ...result,
      failed,
      deferred,
    };
  };
}

/** One pending entry: cleared when disposed or never stored, held when its envelope is gone, else re-driven. */
async function reconcileOne(
  deps: Deps,
  hold: ReturnType<typeof createQuarantineHandler>,
  entry: PendingMessage,
  now: Date,
  result: {
    redriven: { messageId: string; redrives: number }[];
    heldWithoutEnvelope: string[];
    cleared: string[];
  },
  orphanedBefore?: Date,
): Promise<void> {
  const { messageId } = entry;
  // Claims the dead runtime held would otherwise block the re-drive until their leases run out.
  if (orphanedBefore) await deps.ledger.expireClaims(messageId, orphanedBefore);
  const [ledger, stored] = await Promise.all([
    deps.ledger.get(messageId),
    loadOptionalJson<WorkflowInput>(deps.store, KEYS.envelope(messageId)),
  ]);
  // Outbound submissions lie under outbox/ and run the outbound workflow; the rest are SES's inbound/.
  const outbound = stored?.direction === 'outbound';
  const key = outbound ? stored.key : KEYS.inbound(messageId);
  if (!(await deps.store.exists(key))) {
    // The envelope is written before the message, and the reply waits for both: no message, no 250
    // (or the bucket's lifecycle removed it). Nothing to deliver; its envelope may be half written.
    await deps.pending.remove(messageId);
    result.cleared.push(messageId);
    deps.logger.warn('pending message has no stored body; dropped', {
      messageId,
      ageMs: now.getTime() - Date.parse(entry.receivedAt),
    });
    return;
  }
  const recipients = stored?.envelope?.recipients ?? [];
  const open = recipients.filter((r) => !ledger[r] || ledger[r] === 'CLAIMED' || ledger[r] === 'ATTEMPTING');
  if (recipients.length && !open.length) {
    // Disposed, but the step that settled the last recipient died before removing the entry.
    await deps.pending.remove(messageId);
    result.cleared.push(messageId);
    return;
  }
  if (!recipients.length) {
    // Never guess recipients from To/Cc (that would deliver a Bcc'd message to the wrong people):
    // hold it for postmaster, who can read it and forward it.
    const postmaster = `postmaster@${deps.config.domains[0]?.name ?? 'localhost'}`;
    await hold({
      messageId,
      bucket: deps.bucket,
      key,
      envelope: { mailFrom: stored?.envelope?.mailFrom ?? '', recipients: [postmaster] },
      receivedAt: entry.receivedAt,
      direction: 'inbound',
      failure: {
        Error: 'EnvelopeMissing',
        Cause:
          'no SMTP envelope is stored for this message, so its recipients are unknown; held for postmaster instead of guessing them from the headers',
      },
    });
    result.heldWithoutEnvelope.push(messageId);
    deps.logger.warn('held for postmaster: no envelope', { messageId });
    return;
  }
  const redrives = entry.redrives + 1;
  const starter = outbound ? deps.outboundStarter : deps.starter;
  if (!starter)
    throw new Error(
      'outbound submission: this process runs no outbound workflow (seg serve with outbound.submitters re-drives it)',
    );
  await starter.start(stored!);
  await deps.pending.redriven(messageId, redrives, nextRedriveAt(now, redrives));
  result.redriven.push({ messageId, redrives });
  deps.logger.info('re-driven', { messageId, pending: open.length, redrives });
}

/**
 * Runs ingest on up to `max` queued SES events (failed ingests, or arrival notices), removing each from
 * the queue only once ingest has stored its envelope and started its workflow (at least once: the ledger
 * makes a repeat harmless). One that fails again stays queued for the next run. `unlessIngested`: an
 * event whose messages all have a stored envelope already was ingested, and is only removed.
 */
async function drainSesEvents(
  queue: FailedIngestQueue,
  deps: Pick<HandlerDeps, 'store' | 'logger'> & {
    readonly ingest: ReturnType<typeof createIngestHandler>;
    readonly hasTime: () => boolean;
    readonly unlessIngested?: boolean;
  },
  max: number,
): Promise<{ ingested: string[]; failed: string[] }> {
  const ingested: string[] = [];
  const failed: string[] = [];
  const events = deps.hasTime() ? await queue.receive(max) : [];
  for (const queued of events) {
    if (!deps.hasTime()) break;
    let messageIds: string[];
    try {
      if (deps.unlessIngested && (await alreadyIngested(deps, queued.event))) {
        await queued.ack();
        continue;
      }
      messageIds = (await deps.ingest(queued.event)).started.map((s) => s.messageId);
    } catch (error) {
      failed.push(queued.id);
      deps.logger.warn('ingest from the queue failed; left in the queue', {
        id: queued.id,
        ...errorFields(error),
      });
      continue;
    }
    ingested.push(...messageIds);
    deps.logger.info(deps.unlessIngested ? 'ingested a stored message ingest never saw' : 're-ingested', {
      id: queued.id,
      messageIds,
    });
    // Started either way; a record that could not be deleted is ingested again, harmlessly, next run.
    try {
      await queued.ack();
    } catch (error) {
      deps.logger.warn('ingested but not removed from the queue', { id: queued.id, ...errorFields(error) });
    }
  }
  return { ingested, failed };
}

/** Whether every message of an SES event has its envelope stored (ingest ran for it). */
async function alreadyIngested(deps: Pick<HandlerDeps, 'store'>, event: unknown): Promise<boolean> {
  for (const id of messageIdsOf(event)) if (!(await deps.store.exists(KEYS.envelope(id)))) return false;
  return true;
}

const errorFields = (error: unknown) => ({
  errorName: (error as Error).name,
  error: (error as Error).message,
});
