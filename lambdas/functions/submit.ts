// Lambda entry for the HTTPS submission (function URL, AWS_IAM auth).
import { withLambdaContext } from '../adapters/aws/observability.ts';
import { awsOutboundDeps } from '../adapters/aws/outbound-deps.ts';
import { createHttpsSubmitHandler } from '../handlers/submit-https.ts';

const deps = awsOutboundDeps(['bucket', 'store'], ['outboundStarter']);
export const handler = withLambdaContext(createHttpsSubmitHandler(deps), deps);
