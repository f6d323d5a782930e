// Lambda entry for the scan-content step. Adapters are built at module scope, so a missing setting
// fails the cold start, not the hundredth message.
import { awsDeps } from '../adapters/aws/deps.ts';
import { createScanHandler } from '../handlers/scan.ts';

export const handler = createScanHandler('content', awsDeps(['store']));
