// Lambda entry for the release step. Adapters are built at module scope, so a missing setting
// fails the cold start, not the hundredth message.
import { awsDeps } from '../adapters/aws/deps.ts';
import { withLambdaContext } from '../adapters/aws/observability.ts';
import { createReleaseHandler } from '../handlers/release.ts';

const deps = awsDeps(['store', 'ledger', 'quarantine', 'mailer']);
export const handler = withLambdaContext(createReleaseHandler(deps), deps);
