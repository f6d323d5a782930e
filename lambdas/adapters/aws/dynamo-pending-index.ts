// PendingIndex on DynamoDB: one row per undisposed message in the ledger table (sort key PENDING_ROW),
// found through the sparse byDue index by due time. It never lists the bucket.

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ENV } from '../../handlers/deps.ts';
import type { PendingIndex, PendingMessage } from '../../ports/index.ts';
import { clientConfig } from './client-config.ts';
import type { BuildContext } from './deps.ts';
import { LEDGER_TABLE, PENDING_ROW } from './table-schemas.ts';

/**
 * The byDue partition value. One partition: a GSI partition takes about 1,000 writes/s, far above what
 * a mail gateway's pending rows need (one write at ingest, one at disposition per message).
 */
const PENDING = 'PENDING';
const DAY_SECONDS = 86_400;

export class DynamoPendingIndex implements PendingIndex {
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly retentionDays: number;

  constructor(props: {
    readonly client: DynamoDBClient;
    readonly tableName: string;
    /** Rows expire (TTL) this long after the message was received, as the message itself does. @default 30 */
    readonly retentionDays?: number;
  }) {
    this.doc = DynamoDBDocumentClient.from(props.client);
    this.tableName = props.tableName;
    this.retentionDays = props.retentionDays ?? 30;
  }

  async add(messageId: string, receivedAt: string, dueAt: string): Promise<void> {
    const expiresAt = Math.floor(Date.parse(receivedAt) / 1000) + this.retentionDays * DAY_SECONDS;
    // An update, not a put: a repeated ingest keeps the re-drive count and due time already recorded.
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { messageId, recipient: PENDING_ROW },
        UpdateExpression:
          'SET #p = :p, receivedAt = if_not_exists(receivedAt, :r), #d = if_not_exists(#d, :d), redrives = if_not_exists(redrives, :z), expiresAt = if_not_exists(expiresAt, :e)',
        ExpressionAttributeNames: {
          '#p': LEDGER_TABLE.indexes.byDue.partitionKey,
          '#d': LEDGER_TABLE.indexes.byDue.sortKey,
        },
        ExpressionAttributeValues: {
          ':p': PENDING,
          ':r': receivedAt,
          ':d': dueAt,
          ':z': 0,
          ':e': Number.isFinite(expiresAt) ? expiresAt : 0,
        },
      }),
    );
  }

  async remove(messageId: string): Promise<void> {
    await this.doc.send(
      new DeleteCommand({ TableName: this.tableName, Key: { messageId, recipient: PENDING_ROW } }),
    );
  }

  async due(dueBefore: Date, limit: number): Promise<PendingMessage[]> {
    if (limit < 1) return [];
    const index = LEDGER_TABLE.indexes.byDue;
    const found: PendingMessage[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: index.name,
          KeyConditionExpression: '#p = :p AND #d <= :before',
          ExpressionAttributeNames: { '#p': index.partitionKey, '#d': index.sortKey },
          ExpressionAttributeValues: { ':p': PENDING, ':before': dueBefore.toISOString() },
          Limit: limit - found.length,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        found.push({
          messageId: String(item.messageId),
          receivedAt: String(item.receivedAt),
          dueAt: String(item.dueAt),
          redrives: Number(item.redrives ?? 0),
        });
      }
      start = page.LastEvaluatedKey;
    } while (start && found.length < limit);
    return found;
  }

  async redriven(messageId: string, redrives: number, nextDueAt: string): Promise<void> {
    // Conditional on the row: a message disposed meanwhile must not come back as pending.
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { messageId, recipient: PENDING_ROW },
          UpdateExpression: 'SET redrives = :n, #d = :d',
          ConditionExpression: 'attribute_exists(messageId)',
          ExpressionAttributeNames: { '#d': LEDGER_TABLE.indexes.byDue.sortKey },
          ExpressionAttributeValues: { ':n': redrives, ':d': nextDueAt },
        }),
      );
    } catch (error) {
      if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
    }
  }
}

/** The Lambda builder: pending rows live in the ledger table (SEG_LEDGER_TABLE), as long as the messages. */
export const dynamoPendingIndex = (ctx: BuildContext): DynamoPendingIndex =>
  new DynamoPendingIndex({
    client: new DynamoDBClient(clientConfig({ region: ctx.region })),
    tableName: ctx.required(ENV.ledgerTable),
    retentionDays: ctx.config.retention.messageDays,
  });
