// SqsFailedIngestQueue against a mocked SQSClient (no SQS server runs here): it reads Lambda's on-failure
// invocation records, hands back the SES event they carry, deletes a record only on ack, and leaves an
// unreadable record in the queue.

import { readFileSync } from 'node:fs';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  FAILED_INGEST_VISIBILITY_SECONDS,
  receiptNotificationEvent,
  SqsFailedIngestQueue,
} from '../../lambdas/adapters/aws/sqs-failed-ingests.ts';
import { RecordingLogger } from '../../lambdas/adapters/local/observability.ts';
import { messageIdsOf } from '../../lambdas/handlers/ingest.ts';

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/SegStack-IngestFailures';
const sesEvent = JSON.parse(
  readFileSync(new URL('../fixtures/handlers/ses-lambda-event.json', import.meta.url), 'utf8'),
);

/** What Lambda sends its on-failure destination after the last retry of an asynchronous invocation. */
const invocationRecord = (payload: unknown) => ({
  version: '1.0',
  timestamp: '2026-11-28T10:02:11.482Z',
  requestContext: {
    requestId: '5f4e1c2a-8b7d-4e0f-9a1b-2c3d4e5f6a7b',
    functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:SegStack-Functionsingest:$LATEST',
    condition: 'RetriesExhausted',
    approximateInvokeCount: 3,
  },
  requestPayload: payload,
  responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
  responsePayload: {
    errorType: 'TransientError',
    errorMessage: 'StartExecution throttled',
    trace: ['TransientError: StartExecution throttled', '    at SfnWorkflowStarter.start'],
  },
});

const sqs = mockClient(SQSClient);
afterAll(() => sqs.restore());
beforeEach(() => sqs.reset());

const queue = (logger = new RecordingLogger()) =>
  new SqsFailedIngestQueue({ client: new SQSClient({ region: 'eu-west-1' }), queueUrl: QUEUE_URL, logger });

describe('SqsFailedIngestQueue', () => {
  it('hands back the SES event of an on-failure invocation record and deletes it on ack', async () => {
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({
        Messages: [
          { MessageId: 'm-1', ReceiptHandle: 'handle-1', Body: JSON.stringify(invocationRecord(sesEvent)) },
        ],
      })
      .resolves({ Messages: [] });
    sqs.on(DeleteMessageCommand).resolves({});

    const items = await queue().receive(5);

    expect(items.map((i) => i.id)).toEqual(['m-1']);
    expect(items[0]?.event).toEqual(sesEvent);
    const receive = sqs.commandCalls(ReceiveMessageCommand)[0]?.args[0].input;
    expect(receive).toMatchObject({
      QueueUrl: QUEUE_URL,
      MaxNumberOfMessages: 5,
      VisibilityTimeout: FAILED_INGEST_VISIBILITY_SECONDS,
    });
    expect(receive?.WaitTimeSeconds).toBeLessThanOrEqual(5);
    expect(sqs.commandCalls(DeleteMessageCommand)).toHaveLength(0);

    await items[0]?.ack();
    const deletes = sqs.commandCalls(DeleteMessageCommand).map((c) => c.args[0].input);
    expect(deletes).toEqual([{ QueueUrl: QUEUE_URL, ReceiptHandle: 'handle-1' }]);
  });

  it('logs an unreadable record and leaves it in the queue, never deleting it', async () => {
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({
        Messages: [
          { MessageId: 'not-json', ReceiptHandle: 'handle-a', Body: 'ingest failed' },
          {
            MessageId: 'no-payload',
            ReceiptHandle: 'handle-b',
            Body: JSON.stringify({ ...invocationRecord(sesEvent), requestPayload: undefined }),
          },
          { MessageId: 'good', ReceiptHandle: 'handle-c', Body: JSON.stringify(invocationRecord(sesEvent)) },
        ],
      })
      .resolves({ Messages: [] });
    sqs.on(DeleteMessageCommand).resolves({});
    const logger = new RecordingLogger();

    const items = await queue(logger).receive(10);
    for (const item of items) await item.ack();

    expect(items.map((i) => i.id)).toEqual(['good']);
    expect(sqs.commandCalls(DeleteMessageCommand).map((c) => c.args[0].input.ReceiptHandle)).toEqual([
      'handle-c',
    ]);
    expect(logger.records.filter((r) => r.level === 'warn').map((r) => r.fields.id)).toEqual([
      'not-json',
      'no-payload',
    ]);
  });

  it('receives in batches of at most 10 until it has `max` records or the queue answers empty', async () => {
    const batch = (from: number, count: number) => ({
      Messages: Array.from({ length: count }, (_, i) => ({
        MessageId: `m-${from + i}`,
        ReceiptHandle: `h-${from + i}`,
        Body: JSON.stringify(invocationRecord(sesEvent)),
      })),
    });
    sqs.on(ReceiveMessageCommand).resolvesOnce(batch(0, 10)).resolvesOnce(batch(10, 2)).resolves({});

    const items = await queue().receive(12);

    expect(items).toHaveLength(12);
    expect(sqs.commandCalls(ReceiveMessageCommand).map((c) => c.args[0].input.MaxNumberOfMessages)).toEqual([
      10, 2,
    ]);
    expect(await queue().receive(3)).toEqual([]);
  });
});

describe('SqsFailedIngestQueue reading SES arrival notices', () => {
  it("turns the S3 action's raw SNS notice into the Lambda action's event, envelope included", async () => {
    const { mail, receipt } = sesEvent.Records[0].ses;
    // What SES publishes for an S3 action (raw delivery: the body is the notification itself).
    const notice = {
      notificationType: 'Received',
      mail,
      receipt: {
        ...receipt,
        action: { type: 'S3', bucketName: 'seg-messages', objectKey: `inbound/${mail.messageId}` },
      },
    };
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({
        Messages: [
          { MessageId: 'n-1', ReceiptHandle: 'h-1', Body: JSON.stringify(notice) },
          { MessageId: 'n-2', ReceiptHandle: 'h-2', Body: JSON.stringify({ notificationType: 'Bounce' }) },
        ],
      })
      .resolves({ Messages: [] });
    const logger = new RecordingLogger();
    const arrivals = new SqsFailedIngestQueue({
      client: new SQSClient({ region: 'eu-west-1' }),
      queueUrl: QUEUE_URL,
      logger,
      read: receiptNotificationEvent,
    });

    const items = await arrivals.receive(10);

    expect(items.map((i) => i.id)).toEqual(['n-1']);
    const event = items[0]?.event as typeof sesEvent;
    expect(event.Records[0].eventSource).toBe('aws:ses');
    expect(event.Records[0].ses.receipt.recipients).toEqual(receipt.recipients);
    // Ingest reads it as it reads SES's own Lambda event.
    expect(messageIdsOf(event)).toEqual([mail.messageId]);
    expect(logger.records).toContainEqual(
      expect.objectContaining({ level: 'warn', fields: expect.objectContaining({ id: 'n-2' }) }),
    );
  });
});
