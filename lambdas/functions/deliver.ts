// Lambda entry for the deliver step. Adapters are built at module scope, so a missing setting
// fails the cold start, not the hundredth message; it imports only the adapters it uses.
import { awsDeps } from '../adapters/aws/deps.ts';
import { dynamoLedger } from '../adapters/aws/dynamo-ledger.ts';
import { dynamoPendingIndex } from '../adapters/aws/dynamo-pending-index.ts';
import { dynamoQuarantineStore } from '../adapters/aws/dynamo-quarantine-store.ts';
import { withLambdaContext } from '../adapters/aws/observability.ts';
import { s3MessageStore } from '../adapters/aws/s3-message-store.ts';
import { smtpMailer } from '../adapters/aws/smtp-mailer.ts';
import { createDeliverHandler } from '../handlers/deliver.ts';

const deps = awsDeps({
  store: s3MessageStore,
  ledger: dynamoLedger,
  pending: dynamoPendingIndex,
  quarantine: dynamoQuarantineStore,
  mailer: smtpMailer,
});
export const handler = withLambdaContext(createDeliverHandler(deps), deps);
