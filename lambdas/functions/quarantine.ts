// Lambda entry for the quarantine step. Adapters are built at module scope, so a missing setting
// fails the cold start, not the hundredth message; it imports only the adapters it uses.
import { awsDeps } from '../adapters/aws/deps.ts';
import { dynamoLedger } from '../adapters/aws/dynamo-ledger.ts';
import { dynamoPendingIndex } from '../adapters/aws/dynamo-pending-index.ts';
import { dynamoQuarantineStore } from '../adapters/aws/dynamo-quarantine-store.ts';
import { withLambdaContext } from '../adapters/aws/observability.ts';
import { s3MessageStore } from '../adapters/aws/s3-message-store.ts';
import { createQuarantineHandler } from '../handlers/quarantine.ts';

const deps = awsDeps({
  store: s3MessageStore,
  ledger: dynamoLedger,
  pending: dynamoPendingIndex,
  quarantine: dynamoQuarantineStore,
});
export const handler = withLambdaContext(createQuarantineHandler(deps), deps);
