// Lambda entry for the deliver step. Adapters are built at module scope, so a missing setting
// fails the cold start, not the hundredth message.
import { awsDeps } from '../adapters/aws/deps.ts';
import { createDeliverHandler } from '../handlers/deliver.ts';

export const handler = createDeliverHandler(awsDeps(['store', 'ledger', 'mailer']));
