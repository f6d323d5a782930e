// av-definitions: the scheduled job that refreshes the antivirus definitions. It runs freshclam (an
// injected updater), stores the files under av-definitions/ and then the manifest naming them, so a
// scanner never sees a manifest before its files. Unchanged definitions are not uploaded again.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DefinitionsManifest } from '../ports/index.ts';
import type { HandlerDeps } from './deps.ts';
import { KEYS } from './deps.ts';
import { loadOptionalJson } from './support.ts';

/** Fetches current definitions into `dir`; returns the file names and a version naming the set. */
export type DefinitionsUpdater = (dir: string) => Promise<{ files: string[]; version: string }>;

export interface AvDefinitionsResult {
  readonly version: string;
  readonly uploaded: readonly string[];
}

export function createAvDefinitionsHandler(
  deps: Pick<HandlerDeps, 'store' | 'clock' | 'logger'> & {
    readonly update: DefinitionsUpdater;
    readonly dir: string;
  },
) {
  return async (): Promise<AvDefinitionsResult> => {
    const { files, version } = await deps.update(deps.dir);
    if (!files.length) throw new Error('the updater produced no definition files');
    const current = await loadOptionalJson<DefinitionsManifest>(deps.store, KEYS.avManifest);
    if (current?.version === version) {
      deps.logger.info('antivirus definitions unchanged', { version });
      return { version, uploaded: [] };
    }
    for (const file of files) {
      await deps.store.put(KEYS.avDefinitions(file), await readFile(join(deps.dir, file)));
    }
    const manifest: DefinitionsManifest = { version, files, updatedAt: deps.clock().toISOString() };
    await deps.store.put(KEYS.avManifest, JSON.stringify(manifest), 'application/json');
    deps.logger.info('antivirus definitions stored', { version, files });
    return { version, uploaded: files };
  };
}
