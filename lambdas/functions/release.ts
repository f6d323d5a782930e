// Lambda entry for the release step. Adapters are built at module scope, so a missing setting
// fails the cold start, not the hundredth message; it imports only the adapters it uses.
import { awsDeps } from '../adapters/aws/deps.ts';
import { dynamoLedger } from '../adapters/aws/dynamo-ledger.ts';
import { dynamoQuarantineStore } from '../adapters/aws/dynamo-quarantine-store.ts';
import { withLambdaContext } from '../adapters/aws/observability.ts';
import { s3MessageStore } from '../adapters/aws/s3-message-store.ts';
import { sesOutboundSender } from '../adapters/aws/ses-sender.ts';
import { smtpMailer } from '../adapters/aws/smtp-mailer.ts';
import { createReleaseHandler } from '../handlers/release.ts';

const deps = awsDeps({
  store: s3MessageStore,
  ledger: dynamoLedger,
  quarantine: dynamoQuarantineStore,
  mailer: smtpMailer,
  // Held outbound mail is released through SES.
  sender: sesOutboundSender,
});
export const handler = withLambdaContext(createReleaseHandler(deps), deps);
