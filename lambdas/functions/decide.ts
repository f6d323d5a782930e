// Lambda entry for the decide step. Adapters are built at module scope, so a missing setting
// fails the cold start, not the hundredth message.
import { awsDeps } from '../adapters/aws/deps.ts';
import { createDecideHandler } from '../handlers/decide.ts';

export const handler = createDecideHandler(awsDeps(['store']));
