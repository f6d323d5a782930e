// Lambda entry for the reconcile step. Adapters are built at module scope, so a missing setting
// fails the cold start, not the hundredth message; it imports only the adapters it uses.
import { awsDeps, bucketName } from '../adapters/aws/deps.ts';
import { dynamoLedger } from '../adapters/aws/dynamo-ledger.ts';
import { dynamoPendingIndex } from '../adapters/aws/dynamo-pending-index.ts';
import { dynamoQuarantineStore } from '../adapters/aws/dynamo-quarantine-store.ts';
import { withLambdaContext } from '../adapters/aws/observability.ts';
import { s3MessageStore } from '../adapters/aws/s3-message-store.ts';
import { sfnOutboundStarter, sfnWorkflowStarter } from '../adapters/aws/sfn-starter.ts';
import { smtpMailer } from '../adapters/aws/smtp-mailer.ts';
import { sqsArrivalQueue, sqsFailedIngestQueue } from '../adapters/aws/sqs-failed-ingests.ts';
import { createReconcileHandler } from '../handlers/reconcile.ts';

const deps = awsDeps({
  bucket: bucketName,
  store: s3MessageStore,
  ledger: dynamoLedger,
  pending: dynamoPendingIndex,
  quarantine: dynamoQuarantineStore,
  mailer: smtpMailer,
  starter: sfnWorkflowStarter,
  // Outbound submissions whose run died are re-driven into the outbound workflow.
  outboundStarter: sfnOutboundStarter,
  failedIngests: sqsFailedIngestQueue,
  arrivals: sqsArrivalQueue,
});
export const handler = withLambdaContext(createReconcileHandler(deps), deps);
