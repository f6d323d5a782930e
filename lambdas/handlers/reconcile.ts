// Reconcile: the scheduled safety net. First re-ingests the SES events whose ingest failed every retry
// (the ingest failure queue), with the same ingest logic, so they keep their real envelope (Bcc too).
// Then finds stored inbound messages older than 15 minutes with a recipient lacking a final disposition
// and re-starts their workflow, then retries the due DEFERRED deliveries (lambdas/handlers/deferred.ts).
// Bounded per run; the ledger makes a re-drive of a partly handled message touch only the recipients left.

import type { WorkflowInput } from '../ports/index.ts';
import { DEFERRED_MAX_RETRIES, type DeferredResult, retryDeferred } from './deferred.ts';
import { type HandlerDeps, KEYS } from './deps.ts';
import { addressesIn, headerValues } from './header-block.ts';
import { createIngestHandler } from './ingest.ts';
import { domainOf, loadOptionalJson } from './support.ts';

/** Younger messages may still be in their workflow (Express runs last at most 5 minutes). */
export const RECONCILE_MIN_AGE_MS = 15 * 60_000;
/** Re-drives per run, so a backlog drains over several runs instead of flooding the workflow. */
export const RECONCILE_MAX_REDRIVES = 50;
/** Failed ingest events re-ingested per run; the rest wait in the queue for the next run. */
export const RECONCILE_MAX_REINGESTS = 50;
/** Objects examined per run, bounding the listing cost on a large bucket. */
export const RECONCILE_MAX_EXAMINED = 5_000;

export interface ReconcileResult {
  /** Message ids whose failed ingest was re-ingested (workflow started, queue record removed). */
  readonly reingested: readonly string[];
  /** Queue ids of failed ingests that failed again: they stay in the queue for the next run. */
  readonly reingestFailed: readonly string[];
  readonly examined: number;
  readonly redriven: readonly { readonly messageId: string; readonly envelopeFromHeaders: boolean }[];
  /** Orphans that could not be re-driven (no stored envelope and no protected recipient in headers). */
  readonly unrecoverable: readonly string[];
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
/** A delivery may take three 30 s SMTP timeouts (connect, greeting, socket): start none closer than this. */
const DELIVERY_RESERVE_MS = 100_000;

export function createReconcileHandler(deps: Omit<HandlerDeps, 'resolver'>, limits: ReconcileLimits = {}) {
  const maxRedrives = limits.maxRedrives ?? RECONCILE_MAX_REDRIVES;
  const maxExamined = limits.maxExamined ?? RECONCILE_MAX_EXAMINED;
  const ingest = createIngestHandler(deps);
  return async (
    _event?: unknown,
    context?: { getRemainingTimeInMillis(): number },
  ): Promise<ReconcileResult> => {
    const hasTime = () => !context || context.getRemainingTimeInMillis() >= RESERVE_MS;
    const { reingested, reingestFailed } = await drainFailedIngests(
      deps,
      ingest,
      limits.maxReingests ?? RECONCILE_MAX_REINGESTS,
      hasTime,
    );
    // Their workflow has just started and has no ledger row yet: the scan below must not start it again.
    const justStarted = new Set(reingested);

    const now = deps.clock().getTime();
    const maxAgeMs = deps.config.retention.messageDays * 86_400_000;
    const redriven: { messageId: string; envelopeFromHeaders: boolean }[] = [];
    const unrecoverable: string[] = [];
    let examined = 0;
    for await (const object of deps.store.list(KEYS.inboundPrefix)) {
      if (examined >= maxExamined || redriven.length >= maxRedrives) break;
      if (context && context.getRemainingTimeInMillis() < RESERVE_MS) break;
      examined++;
      const messageId = object.key.slice(KEYS.inboundPrefix.length);
      const age = now - object.lastModified.getTime();
      if (!messageId || messageId.includes('/') || messageId === KEYS.sesSetupNotification) continue;
      if (justStarted.has(messageId)) continue;
      if (age < RECONCILE_MIN_AGE_MS || age > maxAgeMs) continue;

      const ledger = await deps.ledger.get(messageId);
      const states = Object.values(ledger);
      // Deliver and quarantine claim every recipient before acting, so final rows only means done;
      // this spares reading the envelope of every settled message on each run.
      if (states.length && states.every((s) => s !== 'CLAIMED')) continue;
      const input = await workflowInput(deps, messageId, object.key, object.lastModified);
      if (!input) {
        unrecoverable.push(messageId);
        continue;
      }
      const pending = input.envelope.recipients.filter((r) => !ledger[r] || ledger[r] === 'CLAIMED');
      if (!pending.length) continue;
      await deps.starter.start(input);
      redriven.push({ messageId, envelopeFromHeaders: input.envelopeFromHeaders === true });
      deps.logger.info('re-driven', { messageId, pending: pending.length });
    }
    const deferred = await retryDeferred(deps, {
      limit: limits.maxDeliveries ?? DEFERRED_MAX_RETRIES,
      hasTime: () => !context || context.getRemainingTimeInMillis() >= DELIVERY_RESERVE_MS,
    });
    deps.logger.info('reconciled', {
      reingested: reingested.length,
      reingestFailed: reingestFailed.length,
      examined,
      redriven: redriven.length,
      unrecoverable: unrecoverable.length,
      deferredDelivered: deferred.delivered.length,
      deferredRescheduled: deferred.rescheduled.length,
      deferredFailed: deferred.failed.length,
      deferredPostponed: deferred.postponed.length,
    });
    for (const messageId of unrecoverable) deps.logger.warn('cannot re-drive: no envelope', { messageId });
    return { reingested, reingestFailed, examined, redriven, unrecoverable, deferred };
  };
}

/**
 * Runs ingest again on up to `max` failed ingest events, removing each from the queue only once ingest
 * has stored its envelope and started its workflow (at least once: the ledger makes a repeat harmless).
 * One that fails again stays queued for the next run.
 */
async function drainFailedIngests(
  deps: Pick<HandlerDeps, 'failedIngests' | 'logger'>,
  ingest: ReturnType<typeof createIngestHandler>,
  max: number,
  hasTime: () => boolean,
): Promise<{ reingested: string[]; reingestFailed: string[] }> {
  const reingested: string[] = [];
  const reingestFailed: string[] = [];
  const failedIngests = hasTime() ? await deps.failedIngests.receive(max) : [];
  for (const failed of failedIngests) {
    if (!hasTime()) break;
    let messageIds: string[];
    try {
      messageIds = (await ingest(failed.event)).started.map((s) => s.messageId);
    } catch (error) {
      reingestFailed.push(failed.id);
      deps.logger.warn('re-ingest failed; left in the queue', { id: failed.id, ...errorFields(error) });
      continue;
    }
    reingested.push(...messageIds);
    deps.logger.info('re-ingested', { id: failed.id, messageIds });
    // Started either way; a record that could not be deleted is re-ingested again, harmlessly, next run.
    try {
      await failed.ack();
    } catch (error) {
      deps.logger.warn('re-ingested but not removed from the queue', {
        id: failed.id,
        ...errorFields(error),
      });
    }
  }
  return { reingested, reingestFailed };
}

const errorFields = (error: unknown) => ({
  errorName: (error as Error).name,
  error: (error as Error).message,
});

/** The envelope ingest stored, or one rebuilt from the headers, limited to the protected domains. */
async function workflowInput(
  deps: Pick<HandlerDeps, 'config' | 'bucket' | 'store'>,
  messageId: string,
  key: string,
  lastModified: Date,
): Promise<WorkflowInput | undefined> {
  const stored = await loadOptionalJson<WorkflowInput>(deps.store, KEYS.envelope(messageId));
  if (stored?.envelope?.recipients?.length) return stored;
  const raw = await deps.store.get(key);
  const protectedDomains = new Set(deps.config.domains.map((d) => d.name.toLowerCase()));
  const recipients = [
    ...new Set(
      ['to', 'cc', 'delivered-to']
        .flatMap((name) => headerValues(raw, name))
        .flatMap(addressesIn)
        .filter((a) => protectedDomains.has(domainOf(a))),
    ),
  ];
  if (!recipients.length) return undefined;
  const returnPath = headerValues(raw, 'return-path').flatMap(addressesIn)[0] ?? '';
  return {
    messageId,
    bucket: deps.bucket,
    key,
    envelope: { mailFrom: returnPath, recipients },
    receivedAt: lastModified.toISOString(),
    direction: 'inbound',
    envelopeFromHeaders: true,
  };
}
