// Lambda entry for the release step. Adapters are built at module scope, so a missing setting
// fails the cold start, not the hundredth message.
import { awsDeps } from '../adapters/aws/deps.ts';
import { createReleaseHandler } from '../handlers/release.ts';

export const handler = createReleaseHandler(awsDeps(['store', 'ledger', 'quarantine', 'mailer']));
