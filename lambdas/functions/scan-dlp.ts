// Lambda entry for the outbound DLP scan (DLP detectors and the SES limits check).
import { awsDeps } from '../adapters/aws/deps.ts';
import { withLambdaContext } from '../adapters/aws/observability.ts';
import { createScanHandler } from '../handlers/scan.ts';

const deps = awsDeps(['store']);
export const handler = withLambdaContext(createScanHandler('dlp', deps), deps);
