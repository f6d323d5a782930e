// DispositionLedger on DynamoDB: one row per (messageId, recipient) whose `state` is CLAIMED (a lease)
// or a final disposition. Every change is a compare-and-set on a `version` attribute, so under
// at-least-once execution exactly one worker wins a claim and a settled row is never overwritten.

import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { TransientError } from '../../errors.ts';
import { ENV } from '../../handlers/deps.ts';
import type { ClaimOptions, Clock, Disposition, DispositionLedger, LedgerState } from '../../ports/index.ts';
import { clientConfig } from './client-config.ts';
import type { BuildContext } from './deps.ts';
import { PENDING_ROW } from './table-schemas.ts';

/** The stored row. `previous` remembers the disposition a claim took over (release from quarantine). */
interface LedgerRow {
  messageId: string;
  recipient: string;
  state: LedgerState;
  action?: string;
  /** Epoch milliseconds after which a CLAIMED row may be taken over. */
  leaseUntil?: number;
  previous?: Disposition;
  detail?: string;
  version: number;
  updatedAt: string;
  expiresAt: number;
}

const DAY_SECONDS = 86_400;

export class DynamoLedger implements DispositionLedger {
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly clock: Clock;
  private readonly retentionDays: number;

  constructor(props: {
    readonly client: DynamoDBClient;
    readonly tableName: string;
    readonly clock?: Clock;
    /** Rows expire (DynamoDB TTL) this many days after their last change. @default 30 */
    readonly retentionDays?: number;
  }) {
    this.doc = DynamoDBDocumentClient.from(props.client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.tableName = props.tableName;
    this.clock = props.clock ?? (() => new Date());
    this.retentionDays = props.retentionDays ?? 30;
  }

  async claim(
    messageId: string,
    recipient: string,
    action: 'deliver' | 'quarantine' | 'send' | 'block',
    leaseMs: number,
    options: ClaimOptions = {},
  ): Promise<boolean> {
    const now = this.clock();
    const row = await this.read(messageId, recipient);
    const base = {
      messageId,
      recipient,
      state: 'CLAIMED' as const,
      action,
      leaseUntil: now.getTime() + leaseMs,
    };
    if (!row) {
      return this.conditional(() =>
        this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...base, version: 1, ...this.stamp(now) } satisfies LedgerRow,
            ConditionExpression: 'attribute_not_exists(messageId)',
          }),
        ),
      );
    }
    if (row.state === 'ATTEMPTING') {
      // The attempt sent (or was sending) the message: if it ended without an outcome, that outcome
      // is unknown, and a second copy is worse than a question for a person.
      if ((row.leaseUntil ?? 0) <= now.getTime()) {
        const { leaseUntil: _lease, previous: _previous, ...rest } = row;
        await this.replace(row, {
          ...rest,
          state: 'UNCONFIRMED',
          detail: 'the delivery attempt ended without a recorded outcome; the server may have the message',
          version: row.version + 1,
          ...this.stamp(now),
        });
      }
      return false;
    }
    if (row.state === 'CLAIMED') {
      if ((row.leaseUntil ?? 0) > now.getTime()) return false;
    } else if (!(options.from ?? []).includes(row.state)) {
      return false;
    }
    const previous = row.state === 'CLAIMED' ? row.previous : row.state;
    return this.replace(row, {
      ...base,
      previous,
      detail: undefined,
      version: row.version + 1,
      ...this.stamp(now),
    });
  }

  async attempt(messageId: string, recipient: string, leaseMs: number): Promise<void> {
    const row = await this.read(messageId, recipient);
    const now = this.clock();
    if (row?.state !== 'CLAIMED' || (row.leaseUntil ?? 0) <= now.getTime()) {
      throw new TransientError(`ledger: ${messageId}/${recipient} is not claimed by this attempt`);
    }
    const next = {
      ...row,
      state: 'ATTEMPTING' as const,
      leaseUntil: now.getTime() + leaseMs,
      version: row.version + 1,
      ...this.stamp(now),
    };
    if (!(await this.replace(row, next)))
      throw new TransientError(`ledger: ${messageId}/${recipient} changed before the attempt; retry`);
  }

  async settle(
    messageId: string,
    recipient: string,
    disposition: Disposition,
    detail?: string,
  ): Promise<void> {
    const row = await this.read(messageId, recipient);
    if (row?.state === disposition) return;
    if (row?.state !== 'CLAIMED' && row?.state !== 'ATTEMPTING') {
      throw new TransientError(
        `ledger: cannot settle ${messageId}/${recipient} as ${disposition}: not claimed`,
      );
    }
    const next: LedgerRow = {
      messageId,
      recipient,
      state: disposition,
      ...(row.action ? { action: row.action } : {}),
      ...(detail ? { detail: detail.slice(0, 1000) } : {}),
      version: row.version + 1,
      ...this.stamp(this.clock()),
    };
    if (!(await this.replace(row, next))) {
      throw new TransientError(`ledger: ${messageId}/${recipient} changed while settling; retry`);
    }
  }

  async abandon(messageId: string, recipient: string): Promise<void> {
    const row = await this.read(messageId, recipient);
    if (row?.state !== 'CLAIMED' && row?.state !== 'ATTEMPTING') return;
    if (row.previous) {
      const { leaseUntil: _lease, previous, ...rest } = row;
      await this.replace(row, {
        ...rest,
        state: previous,
        version: row.version + 1,
        ...this.stamp(this.clock()),
      });
      return;
    }
    // Keep the row as an expired lease rather than deleting it: a message whose workflow dies after
    // this still shows an unfinished recipient, which the reconciler re-drives.
    await this.replace(row, {
      ...row,
      state: 'CLAIMED',
      leaseUntil: 0,
      version: row.version + 1,
      ...this.stamp(this.clock()),
    });
  }

  async expireClaims(messageId: string, claimedBefore: Date): Promise<number> {
    let ended = 0;
    for (const row of await this.rows(messageId)) {
      if (row.state !== 'CLAIMED' && row.state !== 'ATTEMPTING') continue;
      if ((row.leaseUntil ?? 0) <= this.clock().getTime()) continue;
      if (!(Date.parse(row.updatedAt) < claimedBefore.getTime())) continue;
      const next = { ...row, leaseUntil: 0, version: row.version + 1, ...this.stamp(this.clock()) };
      if (await this.replace(row, next)) ended++;
    }
    return ended;
  }

  async get(messageId: string): Promise<Record<string, LedgerState>> {
    const result: Record<string, LedgerState> = {};
    for (const row of await this.rows(messageId)) result[row.recipient] = row.state;
    return result;
  }

  /** Every recipient row of the message (not its pending-index row). */
  private async rows(messageId: string): Promise<LedgerRow[]> {
    const rows: LedgerRow[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'messageId = :id',
          ExpressionAttributeValues: { ':id': messageId },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of (page.Items ?? []) as LedgerRow[])
        if (item.recipient !== PENDING_ROW) rows.push(item);
      start = page.LastEvaluatedKey;
    } while (start);
    return rows;
  }

  private stamp(now: Date) {
    return {
      updatedAt: now.toISOString(),
      expiresAt: Math.floor(now.getTime() / 1000) + this.retentionDays * DAY_SECONDS,
    };
  }

  private async read(messageId: string, recipient: string): Promise<LedgerRow | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { messageId, recipient }, ConsistentRead: true }),
    );
    return out.Item as LedgerRow | undefined;
  }

  /** Writes `next` only if the row still has the version we read. */
  private replace(row: LedgerRow, next: LedgerRow): Promise<boolean> {
    return this.conditional(() =>
      this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: next,
          ConditionExpression: 'version = :v',
          ExpressionAttributeValues: { ':v': row.version },
        }),
      ),
    );
  }

  /** Runs a conditional write: true when it applied, false when another writer got there first. */
  private async conditional(write: () => Promise<unknown>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }
}

/** The Lambda builder: the ledger table from SEG_LEDGER_TABLE; rows live as long as the messages. */
export const dynamoLedger = (ctx: BuildContext): DynamoLedger =>
  new DynamoLedger({
    client: new DynamoDBClient(clientConfig({ region: ctx.region })),
    tableName: ctx.required(ENV.ledgerTable),
    clock: ctx.clock,
    retentionDays: ctx.config.retention.messageDays,
  });
