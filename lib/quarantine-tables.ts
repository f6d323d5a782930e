// The two DynamoDB tables: the quarantine (one item per message and recipient, browsable by
// recipient and by status) and the disposition ledger (idempotency for every side effect).
// Bodies never live here: items point at the raw message in S3 (DynamoDB items are at most 400 KB).

import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

/** Attribute and index names, shared with the DynamoDB adapters' expectations (ports QuarantineItem). */
export const QUARANTINE_SCHEMA = {
  partitionKey: 'messageId',
  sortKey: 'recipient',
  ttl: 'expiresAt',
  byRecipient: { name: 'byRecipient', partitionKey: 'recipient', sortKey: 'receivedAt' },
  byStatus: { name: 'byStatus', partitionKey: 'status', sortKey: 'receivedAt' },
} as const;

export const LEDGER_SCHEMA = { partitionKey: 'messageId', sortKey: 'recipient', ttl: 'expiresAt' } as const;

export interface QuarantineTablesProps {
  /**
   * What happens to the tables when the stack is deleted.
   * @default RemovalPolicy.RETAIN - quarantine items and the ledger outlive the stack
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** The quarantine table and the disposition ledger, on demand, encrypted, with PITR and TTL. */
export class QuarantineTables extends Construct {
  readonly quarantine: dynamodb.Table;
  readonly ledger: dynamodb.Table;

  constructor(scope: Construct, id: string, props: QuarantineTablesProps = {}) {
    super(scope, id);
    const common = {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    };
    const S = dynamodb.AttributeType.STRING;

    this.quarantine = new dynamodb.Table(this, 'Quarantine', {
      ...common,
      partitionKey: { name: QUARANTINE_SCHEMA.partitionKey, type: S },
      sortKey: { name: QUARANTINE_SCHEMA.sortKey, type: S },
      // TTL deletes late (up to days): readers filter expired items themselves.
      timeToLiveAttribute: QUARANTINE_SCHEMA.ttl,
    });
    for (const index of [QUARANTINE_SCHEMA.byRecipient, QUARANTINE_SCHEMA.byStatus]) {
      this.quarantine.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: S },
        sortKey: { name: index.sortKey, type: S },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }

    this.ledger = new dynamodb.Table(this, 'Ledger', {
      ...common,
      partitionKey: { name: LEDGER_SCHEMA.partitionKey, type: S },
      sortKey: { name: LEDGER_SCHEMA.sortKey, type: S },
      timeToLiveAttribute: LEDGER_SCHEMA.ttl,
    });
  }
}
