// Lambda entry for the outbound send step (SESv2 SendEmail, raw). Adapters are built at module scope,
// so a missing setting fails the cold start; it imports only the adapters it uses.
import { awsDeps } from '../adapters/aws/deps.ts';
import { dynamoLedger } from '../adapters/aws/dynamo-ledger.ts';
import { dynamoPendingIndex } from '../adapters/aws/dynamo-pending-index.ts';
import { dynamoQuarantineStore } from '../adapters/aws/dynamo-quarantine-store.ts';
import { withLambdaContext } from '../adapters/aws/observability.ts';
import { s3MessageStore } from '../adapters/aws/s3-message-store.ts';
import { sesOutboundSender } from '../adapters/aws/ses-sender.ts';
import { createSendHandler } from '../handlers/send.ts';

const deps = awsDeps({
  store: s3MessageStore,
  ledger: dynamoLedger,
  pending: dynamoPendingIndex,
  quarantine: dynamoQuarantineStore,
  sender: sesOutboundSender,
});
export const handler = withLambdaContext(createSendHandler(deps), deps);
