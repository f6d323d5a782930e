// QuarantineStore on DynamoDB: flat items keyed (messageId, recipient), listed through the byStatus
// and byRecipient indexes newest first. DynamoDB TTL deletes late, so expired items are filtered here.

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { NotFoundError } from '../../errors.ts';
import { ENV } from '../../handlers/deps.ts';
import type {
  Clock,
  QuarantineChanges,
  QuarantineItem,
  QuarantineStatus,
  QuarantineStore,
} from '../../ports/index.ts';
import { clientConfig } from './client-config.ts';
import type { BuildContext } from './deps.ts';
import { QUARANTINE_TABLE } from './table-schemas.ts';

const DEFAULT_LIMIT = 50;
/**
 * Index pages read per listDue call. Each page reads up to 1 MB of DEFERRED items (thousands), so
 * even a large backlog of not-yet-due items cannot make one reconciler run read without bound.
 */
const MAX_DUE_PAGES = 10;

export class DynamoQuarantineStore implements QuarantineStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly clock: Clock;

  constructor(props: {
    readonly client: DynamoDBClient;
    readonly tableName: string;
    readonly clock?: Clock;
  }) {
    this.doc = DynamoDBDocumentClient.from(props.client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.tableName = props.tableName;
    this.clock = props.clock ?? (() => new Date());
  }

  async put(item: QuarantineItem): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { ...item } }));
  }

  async get(messageId: string, recipient: string): Promise<QuarantineItem | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { messageId, recipient }, ConsistentRead: true }),
    );
    const item = out.Item as QuarantineItem | undefined;
    return item && !this.expired(item) ? item : undefined;
  }

  listByStatus(status: QuarantineStatus, limit = DEFAULT_LIMIT): Promise<QuarantineItem[]> {
    return this.query(QUARANTINE_TABLE.indexes.byStatus.name, '#k = :v', { '#k': 'status' }, status, limit);
  }

  listByRecipient(recipient: string, limit = DEFAULT_LIMIT): Promise<QuarantineItem[]> {
    return this.query(
      QUARANTINE_TABLE.indexes.byRecipient.name,
      '#k = :v',
      { '#k': 'recipient' },
      recipient,
      limit,
    );
  }

  /** Throws NotFoundError when the item does not exist. */
  async setStatus(messageId: string, recipient: string, status: QuarantineStatus): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { messageId, recipient },
          UpdateExpression: 'SET #s = :s',
          ConditionExpression: 'attribute_exists(messageId)',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':s': status },
        }),
      );
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') {
        throw new NotFoundError(`quarantine item ${messageId}/${recipient} does not exist`, { cause: error });
      }
      throw error;
    }
  }

  async update(
    messageId: string,
    recipient: string,
    ifStatus: QuarantineStatus,
    changes: QuarantineChanges,
  ): Promise<boolean> {
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, unknown> = { ':if': ifStatus };
    const set: string[] = [];
    const remove: string[] = [];
    Object.entries(changes).forEach(([name, value], i) => {
      names[`#a${i}`] = name;
      if (value === undefined) remove.push(`#a${i}`);
      else {
        values[`:a${i}`] = value;
        set.push(`#a${i} = :a${i}`);
      }
    });
    const expression = [
      set.length ? `SET ${set.join(', ')}` : '',
      remove.length ? `REMOVE ${remove.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    if (!expression) return (await this.get(messageId, recipient))?.status === ifStatus;
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { messageId, recipient },
          UpdateExpression: expression,
          ConditionExpression: '#status = :if',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  async listDue(now: Date, limit: number): Promise<QuarantineItem[]> {
    const items: QuarantineItem[] = [];
    let start: Record<string, unknown> | undefined;
    let pages = 0;
    do {
      // Oldest first, so the messages closest to giving up are retried first.
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: QUARANTINE_TABLE.indexes.byStatus.name,
          KeyConditionExpression: '#status = :deferred',
          FilterExpression:
            'expiresAt > :nowSeconds AND (attribute_not_exists(nextAttemptAt) OR nextAttemptAt <= :now)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':deferred': 'DEFERRED' satisfies QuarantineStatus,
            ':now': now.toISOString(),
            ':nowSeconds': Math.floor(this.clock().getTime() / 1000),
          },
          ScanIndexForward: true,
          ExclusiveStartKey: start,
        }),
      );
      items.push(...((page.Items ?? []) as QuarantineItem[]));
      start = page.LastEvaluatedKey;
    } while (start && items.length < limit && ++pages < MAX_DUE_PAGES);
    return items.slice(0, limit);
  }

  private expired(item: QuarantineItem): boolean {
    return item.expiresAt * 1000 <= this.clock().getTime();
  }

  private async query(
    index: string,
    keyCondition: string,
    names: Record<string, string>,
    value: string,
    limit: number,
  ): Promise<QuarantineItem[]> {
    const items: QuarantineItem[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      // The filter runs after Limit, so pages may come back short: keep paging until we have enough.
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: index,
          KeyConditionExpression: keyCondition,
          FilterExpression: 'expiresAt > :now',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ':v': value, ':now': Math.floor(this.clock().getTime() / 1000) },
          ScanIndexForward: false,
          Limit: limit,
          ExclusiveStartKey: start,
        }),
      );
      items.push(...((page.Items ?? []) as QuarantineItem[]));
      start = page.LastEvaluatedKey;
    } while (start && items.length < limit);
    return items.slice(0, limit);
  }
}

/** The Lambda builder: the quarantine table from SEG_QUARANTINE_TABLE. */
export const dynamoQuarantineStore = (ctx: BuildContext): DynamoQuarantineStore =>
  new DynamoQuarantineStore({
    client: new DynamoDBClient(clientConfig({ region: ctx.region })),
    tableName: ctx.required(ENV.quarantineTable),
    clock: ctx.clock,
  });
