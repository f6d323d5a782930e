// Lambda entry for the outbox/ object trigger (mail the Mail Manager ingress point accepted).
import { withLambdaContext } from '../adapters/aws/observability.ts';
import { awsOutboundDeps } from '../adapters/aws/outbound-deps.ts';
import { createOutboxIngestHandler } from '../handlers/outbox-ingest.ts';

const deps = awsOutboundDeps(['bucket', 'store'], ['outboundStarter']);
export const handler = withLambdaContext(createOutboxIngestHandler(deps), deps);
