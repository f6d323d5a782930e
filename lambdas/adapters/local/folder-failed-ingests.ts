// The ingest failure queue for the local runtime: the listener writes the SES event of an ingest that
// failed every retry to <folder>/<messageId>.json, and the reconciler reads them back and deletes each
// one it re-ingested. A file that is not JSON is logged and left for a person, as on SQS.

import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FailedIngest, FailedIngestQueue, Logger } from '../../ports/index.ts';

/** Keeps file names portable: a message id never holds a path separator, but the event is input. */
const safe = (text: string): string => text.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 200);

export class FolderFailedIngestQueue implements FailedIngestQueue {
  constructor(
    private readonly folder: string,
    private readonly logger: Logger,
  ) {}

  /** Keeps the SES event of `messageId` whose ingest failed every retry (Lambda's on-failure destination). */
  async record(messageId: string, event: unknown): Promise<void> {
    await mkdir(this.folder, { recursive: true });
    const file = join(this.folder, `${safe(messageId)}.json`);
    // Write then rename, so the reconciler never reads half an event.
    const partial = `${file}.${randomUUID()}.tmp`;
    await writeFile(partial, JSON.stringify(event));
    await rename(partial, file);
  }

  async receive(max: number): Promise<readonly FailedIngest[]> {
    const names = await readdir(this.folder).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    const items: FailedIngest[] = [];
    for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
      if (items.length >= max) break;
      const file = join(this.folder, name);
      let event: unknown;
      try {
        event = JSON.parse(await readFile(file, 'utf8'));
      } catch (error) {
        this.logger.warn('unreadable ingest failure record left in the queue', {
          id: name,
          problem: (error as Error).message,
        });
        continue;
      }
      items.push({ id: name, event, ack: () => rm(file, { force: true }) });
    }
    return items;
  }
}
