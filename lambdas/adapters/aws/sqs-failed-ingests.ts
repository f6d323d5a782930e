// SES events waiting in SQS for the reconciler, deleted only on ack. Two queues: ingest's on-failure
// destination, one invocation record per event that failed every retry ({ requestContext,
// requestPayload, ... }: the SES event is requestPayload); and the arrival queue, where SES's S3 action
// notifies every stored message ({ notificationType: "Received", mail, receipt }, raw SNS delivery),
// which becomes the Lambda action's event shape.

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

/** SES's receipt notification, as the S3 action publishes it: the same mail and receipt as the Lambda event. */
const ReceiptNotification = z.object({
  notificationType: z.literal('Received'),
  mail: z.looseObject({ messageId: z.string() }),
  receipt: z.looseObject({ recipients: z.array(z.string()) }),
});

type Read = (json: unknown) => { ok: true; value: unknown } | { ok: false; problem: string };

/** Lambda's on-failure invocation record: the event ingest was invoked with. */
export const invocationRecordEvent: Read = (json) => {
  const parsed = InvocationRecord.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data.requestPayload };
  const issue = parsed.error.issues[0];
  return {
    ok: false,
    problem: `not an invocation record: ${issue?.path.join('.') || '(body)'} ${issue?.message}`,
  };
};

/** SES's receipt notification, as the SES Lambda-action event ingest takes. */
export const receiptNotificationEvent: Read = (json) => {
  const parsed = ReceiptNotification.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      problem: `not an SES receipt notification: ${issue?.path.join('.') || '(body)'} ${issue?.message}`,
    };
  }
  const { mail, receipt } = parsed.data;
  return {
    ok: true,
    value: { Records: [{ eventSource: 'aws:ses', eventVersion: '1.0', ses: { mail, receipt } }] },
  };
};

export interface SqsFailedIngestQueueOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  readonly logger: Logger;
  /** How a message body becomes the SES event. @default invocationRecordEvent */
  readonly read?: Read;
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
        const event = sesEvent(message.Body, this.options.read ?? invocationRecordEvent);
        const receiptHandle = message.ReceiptHandle;
        if (!event.ok || !receiptHandle) {
          logger.warn('unreadable queued SES event left in the queue', {
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

function sesEvent(body: string | undefined, read: Read): ReturnType<Read> {
  let json: unknown;
  try {
    json = JSON.parse(body ?? '');
  } catch {
    return { ok: false, problem: 'body is not JSON' };
  }
  return read(json);
}

/** The Lambda builder: ingest's on-failure queue from SEG_INGEST_FAILURE_QUEUE_URL. */
export const sqsFailedIngestQueue = (ctx: BuildContext): SqsFailedIngestQueue =>
  new SqsFailedIngestQueue({
    client: new SQSClient(clientConfig({ region: ctx.region })),
    queueUrl: ctx.required(ENV.ingestFailureQueueUrl),
    logger: ctx.logger,
  });

/** The Lambda builder: SES's arrival notices from SEG_ARRIVAL_QUEUE_URL. */
export const sqsArrivalQueue = (ctx: BuildContext): SqsFailedIngestQueue =>
  new SqsFailedIngestQueue({
    client: new SQSClient(clientConfig({ region: ctx.region })),
    queueUrl: ctx.required(ENV.arrivalQueueUrl),
    logger: ctx.logger,
    read: receiptNotificationEvent,
  });
