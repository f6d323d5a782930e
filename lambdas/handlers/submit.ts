// Submit: the outbound ingest. Stores an authenticated submission's raw message at outbox/<id> with
// its envelope and a pending-index entry (cleared at its final disposition) and starts the outbound workflow. Callers (the local submission listener, the HTTPS
// submission function) have already authenticated the submitter and checked its sender addresses.

import { randomUUID } from 'node:crypto';
import type { Envelope } from '../engine/types.ts';
import type { WorkflowInput } from '../ports/index.ts';
import { KEYS, type OutboundHandlerDeps } from './deps.ts';
import { recordAccepted } from './ingest.ts';

export interface Submission {
  readonly raw: Uint8Array;
  readonly envelope: Envelope;
  /** Who authenticated (SMTP AUTH user, IAM principal). */
  readonly submitter: string;
}

export interface SubmitResult {
  readonly submissionId: string;
  readonly executionId: string;
}

export function createSubmitHandler(
  deps: Pick<OutboundHandlerDeps, 'bucket' | 'store' | 'pending' | 'outboundStarter' | 'clock' | 'logger'>,
) {
  return async (submission: Submission): Promise<SubmitResult> => {
    const messageId = `out-${randomUUID()}`;
    const key = KEYS.outbox(messageId);
    await deps.store.put(key, submission.raw, 'message/rfc822');
    const input: WorkflowInput = {
      messageId,
      bucket: deps.bucket,
      key,
      envelope: {
        mailFrom: submission.envelope.mailFrom.toLowerCase(),
        recipients: submission.envelope.recipients.map((r) => r.toLowerCase()),
      },
      receivedAt: deps.clock().toISOString(),
      direction: 'outbound',
      submitter: submission.submitter,
    };
    // Envelope and pending entry, as for inbound mail: a run that dies is re-driven by the reconciler.
    await recordAccepted(deps, input);
    const { executionId } = await deps.outboundStarter.start(input);
    deps.logger.info('submitted', {
      messageId,
      submitter: submission.submitter,
      recipients: input.envelope.recipients.length,
      executionId,
    });
    return { submissionId: messageId, executionId };
  };
}
