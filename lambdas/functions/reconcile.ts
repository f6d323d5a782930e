// Lambda entry for the reconcile step. Adapters are built at module scope, so a missing setting
// fails the cold start, not the hundredth message.
import { awsDeps } from '../adapters/aws/deps.ts';
import { withLambdaContext } from '../adapters/aws/observability.ts';
import { createReconcileHandler } from '../handlers/reconcile.ts';

const deps = awsDeps([
  'bucket',
  'store',
  'ledger',
  'pending',
  'quarantine',
  'mailer',
  'starter',
  'failedIngests',
]);
export const handler = withLambdaContext(createReconcileHandler(deps), deps);
