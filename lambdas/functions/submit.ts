// Lambda entry for the HTTPS submission (function URL, AWS_IAM auth). Adapters are built at module
// scope, so a missing setting fails the cold start; it imports only the adapters it uses.
import { awsDeps, bucketName } from '../adapters/aws/deps.ts';
import { dynamoPendingIndex } from '../adapters/aws/dynamo-pending-index.ts';
import { withLambdaContext } from '../adapters/aws/observability.ts';
import { s3MessageStore } from '../adapters/aws/s3-message-store.ts';
import { sfnOutboundStarter } from '../adapters/aws/sfn-starter.ts';
import { createHttpsSubmitHandler } from '../handlers/submit-https.ts';

const deps = awsDeps({
  bucket: bucketName,
  store: s3MessageStore,
  pending: dynamoPendingIndex,
  outboundStarter: sfnOutboundStarter,
});
export const handler = withLambdaContext(createHttpsSubmitHandler(deps), deps);
