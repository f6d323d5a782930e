// Lambda entry for the ingest step. Adapters are built at module scope, so a missing setting
// fails the cold start, not the hundredth message.
import { awsDeps } from '../adapters/aws/deps.ts';
import { createIngestHandler } from '../handlers/ingest.ts';

export const handler = createIngestHandler(awsDeps(['bucket', 'store', 'starter']));
