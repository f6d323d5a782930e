// Lambda entry for the deliver step. Adapters are built at module scope, so a missing setting
// fails the cold start, not the hundredth message.
import { awsDeps } from '../adapters/aws/deps.ts';
import { withLambdaContext } from '../adapters/aws/observability.ts';
import { createDeliverHandler } from '../handlers/deliver.ts';

const deps = awsDeps(['store', 'ledger', 'pending', 'mailer']);
export const handler = withLambdaContext(createDeliverHandler(deps), deps);
