// The DynamoDB tables' key schema, indexes and TTL attributes, defined once. lib/ declares the same
// tables for CloudFormation; createTables() builds them on dynalite for the local runtime and tests.

import {
  type AttributeDefinition,
  CreateTableCommand,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';

/** Quarantine items: one per (messageId, recipient), listable by recipient and by status. */
export const QUARANTINE_TABLE = {
  partitionKey: 'messageId',
  sortKey: 'recipient',
  ttlAttribute: 'expiresAt',
  indexes: {
    byRecipient: { name: 'byRecipient', partitionKey: 'recipient', sortKey: 'receivedAt' },
    byStatus: { name: 'byStatus', partitionKey: 'status', sortKey: 'receivedAt' },
  },
} as const;

/**
 * The disposition ledger: one row per (messageId, recipient), plus one pending-index row per undisposed
 * message (recipient PENDING_ROW) which alone carries the sparse byDue index's attributes.
 */
export const LEDGER_TABLE = {
  partitionKey: 'messageId',
  sortKey: 'recipient',
  ttlAttribute: 'expiresAt',
  indexes: {
    byDue: { name: 'byDue', partitionKey: 'pendingIndex', sortKey: 'dueAt' },
  },
} as const;

/** The sort key of a message's pending-index row: not an address (no @), so no recipient collides. */
export const PENDING_ROW = '#pending';

/** Physical names used where we choose them (local runtime, tests); CloudFormation names its own. */
export const LOCAL_TABLE_NAMES = { quarantine: 'seg-quarantine', ledger: 'seg-ledger' } as const;

const S = (name: string): AttributeDefinition => ({ AttributeName: name, AttributeType: 'S' });

function gsi(index: { name: string; partitionKey: string; sortKey: string }): GlobalSecondaryIndex {
  return {
    IndexName: index.name,
    KeySchema: [
      { AttributeName: index.partitionKey, KeyType: 'HASH' },
      { AttributeName: index.sortKey, KeyType: 'RANGE' },
    ],
    Projection: { ProjectionType: 'ALL' },
  };
}

/**
 * Creates both tables (on-demand billing) if they do not exist. dynalite ignores TTL, so the stores
 * also filter expired items themselves.
 */
export async function createTables(
  client: DynamoDBClient,
  names: { quarantine: string; ledger: string } = LOCAL_TABLE_NAMES,
): Promise<void> {
  const q = QUARANTINE_TABLE;
  await createIfMissing(client, {
    TableName: names.quarantine,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [S(q.partitionKey), S(q.sortKey), S('receivedAt'), S('status')],
    KeySchema: [
      { AttributeName: q.partitionKey, KeyType: 'HASH' },
      { AttributeName: q.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [gsi(q.indexes.byRecipient), gsi(q.indexes.byStatus)],
  });
  await createIfMissing(client, {
    TableName: names.ledger,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      S(LEDGER_TABLE.partitionKey),
      S(LEDGER_TABLE.sortKey),
      S(LEDGER_TABLE.indexes.byDue.partitionKey),
      S(LEDGER_TABLE.indexes.byDue.sortKey),
    ],
    KeySchema: [
      { AttributeName: LEDGER_TABLE.partitionKey, KeyType: 'HASH' },
      { AttributeName: LEDGER_TABLE.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [gsi(LEDGER_TABLE.indexes.byDue)],
  });
}

async function createIfMissing(
  client: DynamoDBClient,
  input: ConstructorParameters<typeof CreateTableCommand>[0],
) {
  try {
    await client.send(new CreateTableCommand(input));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
}
