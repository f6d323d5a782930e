// The ingest failure queue on SQS: ingest's on-failure destination holds one invocation record per
// event that failed every retry ({ requestContext, requestPayload, responseContext, responsePayload });
// this receives them, hands back requestPayload (the SES event) and deletes a record only on ack.

import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { ENV } from '../../handlers/deps.ts';
import type { FailedIngest, FailedIngestQueue, Logger } from '../../ports/index.ts';
import { clientConfig } from './client-config.ts';
import type { BuildContext } from './deps.ts';

/** SQS returns at most 10 messages per ReceiveMessage. */
const SQS_MAX_BATCH = 10;
/**
 * A short long-poll: unlike 0 (short polling, which samples a subset of SQS's servers and may answer
 * empty while messages wait), it queries every server, and an empty queue costs the run one second.
 */
const RECEIVE_WAIT_SECONDS = 1;
/**
 * Hidden from other receivers for the reconciler's whole run (its Lambda timeout is 300 s), so one run
 * never sees a record twice; a record not acked (ingest failed again) reappears for the next run.
 */
export const FAILED_INGEST_VISIBILITY_SECONDS = 300;

/** The part of Lambda's invocation record the reconciler needs: the event ingest was invoked with. */
const InvocationRecord = z.object({
  requestContext: z
    .object({ functionArn: z.string().optional(), condition: z.string().optional() })
    .optional(),
  requestPayload: z.looseObject({ Records: z.array(z.unknown()).min(1) }),
});

export interface SqsFailedIngestQueueOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  readonly logger: Logger;
  /** @default FAILED_INGEST_VISIBILITY_SECONDS */
  readonly visibilityTimeoutSeconds?: number;
}

export class SqsFailedIngestQueue implements FailedIngestQueue {
  constructor(private readonly options: SqsFailedIngestQueueOptions) {}

  async receive(max: number): Promise<readonly FailedIngest[]> {
    const { client, queueUrl, logger } = this.options;
    const items: FailedIngest[] = [];
    // Unreadable records stay hidden for the visibility timeout once received, so each call sees new
    // ones; the call count still bounds a queue full of them.
    const maxCalls = Math.ceil(max / SQS_MAX_BATCH) + 2;
    for (let call = 0; call < maxCalls && items.length < max; call++) {
      const { Messages = [] } = await client.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: Math.min(SQS_MAX_BATCH, max - items.length),
          WaitTimeSeconds: RECEIVE_WAIT_SECONDS,
          VisibilityTimeout: this.options.visibilityTimeoutSeconds ?? FAILED_INGEST_VISIBILITY_SECONDS,
        }),
      );
      if (Messages.length === 0) break;
      for (const message of Messages) {
        const id = message.MessageId ?? '(no id)';
        const event = requestPayload(message.Body);
        const receiptHandle = message.ReceiptHandle;
        if (!event.ok || !receiptHandle) {
          logger.warn('unreadable ingest failure record left in the queue', {
            id,
            problem: event.ok ? 'no receipt handle' : event.problem,
          });
          continue;
        }
        items.push({
          id,
          event: event.value,
          ack: async () => {
            await client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle }));
          },
        });
      }
    }
    return items;
  }
}

function requestPayload(
  body: string | undefined,
): { ok: true; value: unknown } | { ok: false; problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(body ?? '');
  } catch {
    return { ok: false, problem: 'body is not JSON' };
  }
  const parsed = InvocationRecord.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      problem: `not an invocation record: ${issue?.path.join('.') || '(body)'} ${issue?.message}`,
    };
  }
  return { ok: true, value: parsed.data.requestPayload };
}

/** The Lambda builder: ingest's on-failure queue from SEG_INGEST_FAILURE_QUEUE_URL. */
export const sqsFailedIngestQueue = (ctx: BuildContext): SqsFailedIngestQueue =>
  new SqsFailedIngestQueue({
    client: new SQSClient(clientConfig({ region: ctx.region })),
    queueUrl: ctx.required(ENV.ingestFailureQueueUrl),
    logger: ctx.logger,
  });
