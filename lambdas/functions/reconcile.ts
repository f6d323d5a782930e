// Lambda entry for the reconcile step. Adapters are built at module scope, so a missing setting
// fails the cold start, not the hundredth message.
import { awsDeps } from '../adapters/aws/deps.ts';
import { createReconcileHandler } from '../handlers/reconcile.ts';

export const handler = createReconcileHandler(
  awsDeps(['bucket', 'store', 'ledger', 'quarantine', 'mailer', 'starter']),
);
