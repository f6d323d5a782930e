// Lambda entry for the ingest step. Adapters are built at module scope, so a missing setting
// fails the cold start, not the hundredth message; it imports only the adapters it uses.
import { awsDeps, bucketName } from '../adapters/aws/deps.ts';
import { dynamoPendingIndex } from '../adapters/aws/dynamo-pending-index.ts';
import { withLambdaContext } from '../adapters/aws/observability.ts';
import { s3MessageStore } from '../adapters/aws/s3-message-store.ts';
import { sfnWorkflowStarter } from '../adapters/aws/sfn-starter.ts';
import { createIngestHandler } from '../handlers/ingest.ts';

const deps = awsDeps({
  bucket: bucketName,
  store: s3MessageStore,
  pending: dynamoPendingIndex,
  starter: sfnWorkflowStarter,
});
export const handler = withLambdaContext(createIngestHandler(deps), deps);
