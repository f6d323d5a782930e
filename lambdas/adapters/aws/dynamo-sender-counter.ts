// SenderCounter in the ledger table: one row per (sender, window) holding the message and recipient
// counts and the ids counted, so a retried add is a no-op (conditional on the id being new). Rows use
// key values no message id can take (`sender#...`) and expire with the ledger's TTL.

import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ENV } from '../../handlers/deps.ts';
import type { SenderCounter } from '../../ports/index.ts';
import { clientConfig } from './client-config.ts';
import type { BuildContext } from './deps.ts';

// Ids are kept only to make adds idempotent; past this many the sender is far over any sane limit,
// and the item stays well under DynamoDB's 400 KB.
const MAX_IDS = 2000;
const DAY_SECONDS = 86_400;

export class DynamoSenderCounter implements SenderCounter {
  private readonly doc: DynamoDBDocumentClient;

  constructor(private readonly props: { readonly client: DynamoDBClient; readonly tableName: string }) {
    this.doc = DynamoDBDocumentClient.from(props.client);
  }

  async add(sender: string, windowStart: Date, messageId: string, recipients: number) {
    const Key = {
      messageId: `sender#${sender.toLowerCase()}`,
      recipient: `window#${windowStart.toISOString()}`,
    };
    const expiresAt = Math.floor(windowStart.getTime() / 1000) + 2 * DAY_SECONDS;
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.props.tableName,
          Key,
          UpdateExpression: 'ADD messages :one, recipientCount :n, ids :id SET expiresAt = :exp',
          ConditionExpression:
            'attribute_not_exists(ids) OR (NOT contains(ids, :idValue) AND size(ids) < :max)',
          ExpressionAttributeValues: {
            ':one': 1,
            ':n': recipients,
            ':id': new Set([messageId]),
            ':idValue': messageId,
            ':exp': expiresAt,
            ':max': MAX_IDS,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return {
        messages: Number(out.Attributes?.messages ?? 0),
        recipients: Number(out.Attributes?.recipientCount ?? 0),
      };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // Counted already (a retry), or the id set is full: report the totals as they stand.
      const row = await this.doc.send(
        new GetCommand({ TableName: this.props.tableName, Key, ConsistentRead: true }),
      );
      const full = ((row.Item?.ids as Set<string> | undefined)?.size ?? 0) >= MAX_IDS;
      return {
        messages: Number(row.Item?.messages ?? 0) + (full ? 1 : 0),
        recipients: Number(row.Item?.recipientCount ?? 0) + (full ? recipients : 0),
      };
    }
  }
}

/** The Lambda builder: the per-sender rows live in the ledger table (SEG_LEDGER_TABLE). */
export const dynamoSenderCounter = (ctx: BuildContext): DynamoSenderCounter =>
  new DynamoSenderCounter({
    client: new DynamoDBClient(clientConfig({ region: ctx.region })),
    tableName: ctx.required(ENV.ledgerTable),
  });
