// Lambda entry for the antivirus scan step. It runs in the container image of av/lambda/Dockerfile
// (Debian's clamav-daemon): clamd starts on the first message with the definitions from S3.
import { join } from 'node:path';
import { awsDeps } from '../adapters/aws/deps.ts';
import { withLambdaContext } from '../adapters/aws/observability.ts';
import { s3MessageStore } from '../adapters/aws/s3-message-store.ts';
import { RefreshingClamd } from '../adapters/clamd/refreshing-clamd.ts';
import { createScanAntivirusHandler } from '../handlers/scan.ts';

/** Where the image keeps the project's signature files (COPY in av/lambda/Dockerfile). */
const SIGNATURES_DIR = join(process.env.LAMBDA_TASK_ROOT ?? '/var/task', 'av', 'signatures');

const deps = awsDeps({ store: s3MessageStore });
const antivirus = new RefreshingClamd({
  store: deps.store,
  dir: '/tmp/clamav',
  signatureDirs: [SIGNATURES_DIR],
  clock: deps.clock,
});
export const handler = withLambdaContext(createScanAntivirusHandler({ ...deps, antivirus }), deps);
