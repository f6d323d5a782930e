// Test helper: the ledger and quarantine table of a local gateway's data folder, read and written the
// way an operator's tool would, through the embedded servers (started for the call when none runs).

import { createDynamoClient } from '../../lambdas/adapters/aws/aws-clients.ts';
import { DynamoLedger } from '../../lambdas/adapters/aws/dynamo-ledger.ts';
import { DynamoQuarantineStore } from '../../lambdas/adapters/aws/dynamo-quarantine-store.ts';
import { openEmbeddedAws } from '../../lambdas/local/embedded-aws.ts';

export async function withLocalTables<T>(
  dataDir: string,
  use: (tables: { ledger: DynamoLedger; quarantine: DynamoQuarantineStore }) => Promise<T>,
): Promise<T> {
  const aws = await openEmbeddedAws(dataDir);
  const client = createDynamoClient({
    endpoint: aws.endpoints.dynamodb,
    region: aws.endpoints.region,
    credentials: aws.endpoints.credentials,
  });
  try {
    return await use({
      ledger: new DynamoLedger({ client, tableName: aws.endpoints.ledgerTable }),
      quarantine: new DynamoQuarantineStore({ client, tableName: aws.endpoints.quarantineTable }),
    });
  } finally {
    client.destroy();
    await aws.stop();
  }
}
