// Lambda entry for the outbound DLP scan (DLP detectors and the SES limits check). Adapters are built
// at module scope, so a missing setting fails the cold start; it imports only the adapters it uses.
import { awsDeps } from '../adapters/aws/deps.ts';
import { withLambdaContext } from '../adapters/aws/observability.ts';
import { s3MessageStore } from '../adapters/aws/s3-message-store.ts';
import { createScanHandler } from '../handlers/scan.ts';

const deps = awsDeps({ store: s3MessageStore });
export const handler = withLambdaContext(createScanHandler('dlp', deps), deps);
