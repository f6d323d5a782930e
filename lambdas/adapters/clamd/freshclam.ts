// Runs Debian's freshclam once into a folder with a config of our own (no root, no daemon), for the
// scheduled av-definitions function. It needs the network to ClamAV's mirror: never used in tests.

import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** freshclam downloads ~300 MB on a cold start; the function's timeout bounds it further. */
const FRESHCLAM_TIMEOUT_MS = 10 * 60_000;

/** The definition files freshclam leaves in `dir` (main, daily, bytecode as .cvd or .cld). */
export async function runFreshclam(dir: string): Promise<{ files: string[]; version: string }> {
  await mkdir(dir, { recursive: true });
  const config = join(dir, 'freshclam.conf');
  await writeFile(
    config,
    [
      `DatabaseDirectory ${dir}`,
      'DatabaseMirror database.clamav.net',
      'DNSDatabaseInfo current.cvd.clamav.net',
      'Foreground yes',
      'Checks 1',
      `UpdateLogFile ${join(dir, 'freshclam.log')}`,
      '',
    ].join('\n'),
  );
  await run('freshclam', ['--config-file', config, '--stdout'], { timeout: FRESHCLAM_TIMEOUT_MS });
  const files = (await readdir(dir)).filter((f) => /\.(cvd|cld)$/.test(f)).sort();
  // Each database's header line carries its version: their joined versions name this set.
  const versions = await Promise.all(
    files.map(
      async (f) =>
        `${f}:${(await readFile(join(dir, f))).subarray(0, 512).toString('latin1').split(':')[2] ?? ''}`,
    ),
  );
  return { files, version: versions.join(',') };
}
