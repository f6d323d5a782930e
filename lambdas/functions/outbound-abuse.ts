// Lambda entry for the outbound abuse check (per-sender counts in the ledger table). Adapters are
// built at module scope, so a missing setting fails the cold start; it imports only the adapters it uses.
import { awsDeps } from '../adapters/aws/deps.ts';
import { dynamoSenderCounter } from '../adapters/aws/dynamo-sender-counter.ts';
import { withLambdaContext } from '../adapters/aws/observability.ts';
import { createOutboundAbuseHandler } from '../handlers/outbound-abuse.ts';

const deps = awsDeps({ counter: dynamoSenderCounter });
export const handler = withLambdaContext(createOutboundAbuseHandler(deps), deps);
