// Ingest: the SES receipt rule's Lambda action. SES has already stored the raw message (S3 action);
// this records the SMTP envelope next to it and starts the inbound workflow. It reads no body.

import { z } from 'zod';
import type { SesVerdicts } from '../engine/types.ts';
import { MalformedEventError } from '../errors.ts';
import type { WorkflowInput } from '../ports/index.ts';
import { type HandlerDeps, KEYS } from './deps.ts';

const status = z
  .object({
    status: z.enum(['PASS', 'FAIL', 'GRAY', 'PROCESSING_FAILED', 'DISABLED']).catch('PROCESSING_FAILED'),
  })
  .optional();

const SesRecord = z.object({
  eventSource: z.literal('aws:ses'),
  ses: z.object({
    mail: z.object({
      messageId: z
        .string()
        .min(1)
        .regex(/^[^/]+$/),
      source: z.string(),
      timestamp: z.string(),
    }),
    receipt: z.object({
      // Loose on purpose: a quoted local part may hold spaces or @; SES has already accepted it.
      recipients: z.array(z.string().regex(/^.+@[^@\s]+$/)).min(1),
      spamVerdict: status,
      virusVerdict: status,
      spfVerdict: status,
      dkimVerdict: status,
      dmarcVerdict: status,
      // The documentation shows a bare string ("reject"); accept {status} too.
      dmarcPolicy: z.union([z.string(), z.object({ status: z.string() })]).optional(),
    }),
  }),
});
const SesEvent = z.object({ Records: z.array(SesRecord).min(1) });
export type SesEvent = z.input<typeof SesEvent>;

export interface IngestResult {
  readonly started: readonly { readonly messageId: string; readonly executionId: string }[];
  readonly ignored: readonly string[];
}

/** Younger messages may still be in their workflow (Express runs last at most 5 minutes). */
export const RECONCILE_MIN_AGE_MS = 15 * 60_000;

type RecordDeps = Pick<HandlerDeps, 'bucket' | 'store' | 'pending'>;

/** The SES records of an event, validated; throws MalformedEventError listing the first problems. */
function sesRecords(event: unknown) {
  const parsed = SesEvent.safeParse(event);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`);
    throw new MalformedEventError(`not an SES receipt event: ${problems.slice(0, 5).join('; ')}`);
  }
  return parsed.data.Records.map((r) => r.ses);
}

/** The message ids an SES event names (SES's setup notification excluded); throws MalformedEventError. */
export function messageIdsOf(event: unknown): string[] {
  return sesRecords(event)
    .map((ses) => ses.mail.messageId)
    .filter((id) => id !== KEYS.sesSetupNotification);
}

/** The workflow input for one record; the envelope is what SES accepted in RCPT TO, never header To/Cc. */
function workflowInput(ses: z.infer<typeof SesRecord>['ses'], bucket: string): WorkflowInput {
  return {
    messageId: ses.mail.messageId,
    bucket,
    key: KEYS.inbound(ses.mail.messageId),
    envelope: { mailFrom: ses.mail.source, recipients: ses.receipt.recipients.map((r) => r.toLowerCase()) },
    receivedAt: isoOrNow(ses.mail.timestamp),
    ses: verdicts(ses.receipt),
    direction: 'inbound',
  };
}

/**
 * Makes a message's envelope durable: the envelope object first, then its pending-index entry (due once
 * its workflow has had time to finish). The reconciler re-drives from exactly these two records.
 */
export async function recordAccepted(deps: RecordDeps, input: WorkflowInput): Promise<void> {
  await deps.store.put(KEYS.envelope(input.messageId), JSON.stringify(input), 'application/json');
  const dueAt = new Date(Date.parse(input.receivedAt) + RECONCILE_MIN_AGE_MS).toISOString();
  await deps.pending.add(input.messageId, input.receivedAt, dueAt);
}

/**
 * Records the envelopes of an SES event without starting anything: the local listener calls it before
 * its 250 reply, so an accepted message survives a crash with its real recipients.
 */
export function createEnvelopeRecorder(deps: RecordDeps) {
  return async (event: unknown): Promise<void> => {
    for (const ses of sesRecords(event)) {
      if (ses.mail.messageId !== KEYS.sesSetupNotification)
        await recordAccepted(deps, workflowInput(ses, deps.bucket));
    }
  };
}

export function createIngestHandler(
  deps: Pick<HandlerDeps, 'bucket' | 'store' | 'pending' | 'starter' | 'logger'>,
) {
  return async (event: unknown): Promise<IngestResult> => {
    const started: { messageId: string; executionId: string }[] = [];
    const ignored: string[] = [];
    for (const ses of sesRecords(event)) {
      if (ses.mail.messageId === KEYS.sesSetupNotification) {
        ignored.push(ses.mail.messageId);
        deps.logger.info('ignored SES setup notification');
        continue;
      }
      const input = workflowInput(ses, deps.bucket);
      await recordAccepted(deps, input);
      const { executionId } = await deps.starter.start(input);
      deps.logger.info('started', {
        messageId: input.messageId,
        executionId,
        recipients: input.envelope.recipients.length,
      });
      started.push({ messageId: input.messageId, executionId });
    }
    return { started, ignored };
  };
}

function verdicts(receipt: z.infer<typeof SesRecord>['ses']['receipt']): SesVerdicts {
  const policy = typeof receipt.dmarcPolicy === 'string' ? receipt.dmarcPolicy : receipt.dmarcPolicy?.status;
  const upper = policy?.toUpperCase();
  return {
    ...(receipt.spamVerdict ? { spam: receipt.spamVerdict.status } : {}),
    ...(receipt.virusVerdict ? { virus: receipt.virusVerdict.status } : {}),
    ...(receipt.spfVerdict ? { spf: receipt.spfVerdict.status } : {}),
    ...(receipt.dkimVerdict ? { dkim: receipt.dkimVerdict.status } : {}),
    ...(receipt.dmarcVerdict ? { dmarc: receipt.dmarcVerdict.status } : {}),
    ...(upper === 'NONE' || upper === 'QUARANTINE' || upper === 'REJECT' ? { dmarcPolicy: upper } : {}),
  };
}

/** SES sends ISO-8601; anything unreadable becomes "now" rather than failing the message. */
function isoOrNow(timestamp: string): string {
  const t = new Date(timestamp);
  return Number.isNaN(t.getTime()) ? new Date().toISOString() : t.toISOString();
}
