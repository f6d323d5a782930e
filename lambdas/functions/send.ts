// Lambda entry for the outbound send step (SESv2 SendEmail, raw).
import { withLambdaContext } from '../adapters/aws/observability.ts';
import { awsOutboundDeps } from '../adapters/aws/outbound-deps.ts';
import { createSendHandler } from '../handlers/send.ts';

const deps = awsOutboundDeps(['store', 'ledger'], ['sender']);
export const handler = withLambdaContext(createSendHandler(deps), deps);
