// Lambda entry for the scan-attachments step. Adapters are built at module scope, so a missing setting
// fails the cold start, not the hundredth message.
import { awsDeps } from '../adapters/aws/deps.ts';
import { withLambdaContext } from '../adapters/aws/observability.ts';
import { createScanHandler } from '../handlers/scan.ts';

const deps = awsDeps(['store']);
export const handler = withLambdaContext(createScanHandler('attachments', deps), deps);
