// Lambda entry for the outbound abuse check (per-sender counts in the ledger table).
import { withLambdaContext } from '../adapters/aws/observability.ts';
import { awsOutboundDeps } from '../adapters/aws/outbound-deps.ts';
import { createOutboundAbuseHandler } from '../handlers/outbound-abuse.ts';

const deps = awsOutboundDeps([], ['counter']);
export const handler = withLambdaContext(createOutboundAbuseHandler(deps), deps);
