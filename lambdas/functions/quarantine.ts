// Lambda entry for the quarantine step. Adapters are built at module scope, so a missing setting
// fails the cold start, not the hundredth message.
import { awsDeps } from '../adapters/aws/deps.ts';
import { withLambdaContext } from '../adapters/aws/observability.ts';
import { createQuarantineHandler } from '../handlers/quarantine.ts';

const deps = awsDeps(['store', 'ledger', 'pending', 'quarantine']);
export const handler = withLambdaContext(createQuarantineHandler(deps), deps);
