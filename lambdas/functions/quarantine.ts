// Lambda entry for the quarantine step. Adapters are built at module scope, so a missing setting
// fails the cold start, not the hundredth message.
import { awsDeps } from '../adapters/aws/deps.ts';
import { createQuarantineHandler } from '../handlers/quarantine.ts';

export const handler = createQuarantineHandler(awsDeps(['store', 'ledger', 'quarantine']));
