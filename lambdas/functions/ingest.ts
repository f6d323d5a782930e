// Lambda entry for the ingest step. Adapters are built at module scope, so a missing setting
// fails the cold start, not the hundredth message.
import { awsDeps } from '../adapters/aws/deps.ts';
import { withLambdaContext } from '../adapters/aws/observability.ts';
import { createIngestHandler } from '../handlers/ingest.ts';

const deps = awsDeps(['bucket', 'store', 'pending', 'starter']);
export const handler = withLambdaContext(createIngestHandler(deps), deps);
