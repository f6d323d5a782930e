// The two DynamoDB tables: the quarantine (one item per message and recipient, browsable by
// recipient and by status) and the disposition ledger (idempotency for every side effect).
// Bodies never live here: items point at the raw message in S3 (DynamoDB items are at most 400 KB).
// Key schema and index names come from the adapters' table-schemas.ts, so local and AWS tables match.

import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { LEDGER_TABLE, QUARANTINE_TABLE } from '../lambdas/adapters/aws/table-schemas.ts';

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
      // RETAIN keeps a table when the stack goes; this also refuses a DeleteTable by hand or by a
      // replacement, so held mail and the idempotency ledger are never lost to one call.
      deletionProtection: true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    };
    const S = dynamodb.AttributeType.STRING;

    this.quarantine = new dynamodb.Table(this, 'Quarantine', {
      ...common,
      partitionKey: { name: QUARANTINE_TABLE.partitionKey, type: S },
      sortKey: { name: QUARANTINE_TABLE.sortKey, type: S },
      // TTL deletes late (up to days): readers filter expired items themselves.
      timeToLiveAttribute: QUARANTINE_TABLE.ttlAttribute,
    });
    for (const index of Object.values(QUARANTINE_TABLE.indexes)) {
      this.quarantine.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: S },
        sortKey: { name: index.sortKey, type: S },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }

    this.ledger = new dynamodb.Table(this, 'Ledger', {
      ...common,
      partitionKey: { name: LEDGER_TABLE.partitionKey, type: S },
      sortKey: { name: LEDGER_TABLE.sortKey, type: S },
      timeToLiveAttribute: LEDGER_TABLE.ttlAttribute,
    });
    // The pending index: sparse (only pending rows carry its keys), read by the reconciler by due time.
    const byDue = LEDGER_TABLE.indexes.byDue;
    this.ledger.addGlobalSecondaryIndex({
      indexName: byDue.name,
      partitionKey: { name: byDue.partitionKey, type: S },
      sortKey: { name: byDue.sortKey, type: S },
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }
}
