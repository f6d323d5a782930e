// Lambda entry for the outbound decide step.
import { awsDeps } from '../adapters/aws/deps.ts';
import { withLambdaContext } from '../adapters/aws/observability.ts';
import { createOutboundDecideHandler } from '../handlers/outbound-decide.ts';

const deps = awsDeps(['store']);
export const handler = withLambdaContext(createOutboundDecideHandler(deps), deps);
