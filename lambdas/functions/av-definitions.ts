// Lambda entry for the scheduled antivirus definitions refresh (same image as scan-antivirus):
// freshclam into /tmp, then the files and their manifest into av-definitions/ in the message bucket.
import { awsDeps } from '../adapters/aws/deps.ts';
import { withLambdaContext } from '../adapters/aws/observability.ts';
import { s3MessageStore } from '../adapters/aws/s3-message-store.ts';
import { runFreshclam } from '../adapters/clamd/freshclam.ts';
import { createAvDefinitionsHandler } from '../handlers/av-definitions.ts';

const deps = awsDeps({ store: s3MessageStore });
export const handler = withLambdaContext(
  createAvDefinitionsHandler({ ...deps, update: runFreshclam, dir: '/tmp/freshclam' }),
  deps,
);
