// Lambda entry for the outbound decide step. Adapters are built at module scope, so a missing setting
// fails the cold start; it imports only the adapters it uses.
import { awsDeps } from '../adapters/aws/deps.ts';
import { withLambdaContext } from '../adapters/aws/observability.ts';
import { s3MessageStore } from '../adapters/aws/s3-message-store.ts';
import { createOutboundDecideHandler } from '../handlers/outbound-decide.ts';

const deps = awsDeps({ store: s3MessageStore });
export const handler = withLambdaContext(createOutboundDecideHandler(deps), deps);
