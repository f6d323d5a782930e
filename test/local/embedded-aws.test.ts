import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createS3Client } from '../../lambdas/adapters/aws/aws-clients.ts';
import { S3MessageStore } from '../../lambdas/adapters/aws/s3-message-store.ts';
import {
  DataDirBusyError,
  type EmbeddedEndpoints,
  makeDurable,
  openEmbeddedAws,
  readRunningEndpoints,
  type S3rverStore,
  startEmbeddedAws,
} from '../../lambdas/local/embedded-aws.ts';

const require = createRequire(import.meta.url);

function storeAt(endpoints: EmbeddedEndpoints) {
  const client = createS3Client({
    endpoint: endpoints.s3,
    region: endpoints.region,
    credentials: endpoints.credentials,
  });
  return { store: new S3MessageStore({ client, bucket: endpoints.bucket }), close: () => client.destroy() };
}

describe('embedded AWS servers', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'seg-embedded-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps stored objects across a restart on the same data folder', async () => {
    const first = await startEmbeddedAws({ dataDir });
    const a = storeAt(first.endpoints);
    await a.store.put('inbound/kept', 'hello');
    a.close();
    await first.stop();

    const second = await startEmbeddedAws({ dataDir });
    const b = storeAt(second.endpoints);
    try {
      expect(Buffer.from(await b.store.get('inbound/kept')).toString()).toBe('hello');
    } finally {
      b.close();
      await second.stop();
    }
  });

  it('refuses a second opener of the same data folder with DataDirBusyError', async () => {
    const running = await startEmbeddedAws({ dataDir, publish: false });
    try {
      await expect(startEmbeddedAws({ dataDir, publish: false })).rejects.toBeInstanceOf(DataDirBusyError);
    } finally {
      await running.stop();
    }
  });

  it('lets openEmbeddedAws reuse published servers without stopping them', async () => {
    const running = await startEmbeddedAws({ dataDir });
    try {
      expect(await readRunningEndpoints(dataDir)).toEqual(running.endpoints);
      const opened = await openEmbeddedAws(dataDir);
      expect(opened.endpoints.s3).toBe(running.endpoints.s3);
      await opened.stop();
      expect(await readRunningEndpoints(dataDir)).toBeDefined();
    } finally {
      await running.stop();
    }
    expect(await readRunningEndpoints(dataDir)).toBeUndefined();
  });

  it('answers a put only once the object is on disk, so a 250 given on it survives SIGKILL', async () => {
    const FilesystemStore = require('s3rver/lib/stores/filesystem') as new (dir: string) => S3rverStore;
    const store = new FilesystemStore(dataDir);
    // Metadata is recorded, not written, so no other file's I/O gives the object's write time to finish.
    makeDurable(store);
    const metadataFor: string[] = [];
    store.putMetadata = async (_bucket, key) => {
      metadataFor.push(key);
    };
    const content = Buffer.alloc(8 * 1024 * 1024, 'x');
    await store.putObject({ bucket: 'b', key: 'envelopes/m1.json', content, metadata: {} });
    // Checked synchronously on resolution: nothing may still be queued in the process.
    expect(statSync(store.getResourcePath('b', 'envelopes/m1.json', 'object')).size).toBe(content.length);
    expect(metadataFor).toEqual(['envelopes/m1.json']);
  });

  it('replaces a stored object whole, so a reader (or a kill) during a rewrite sees the old or the new one', async () => {
    const FilesystemStore = require('s3rver/lib/stores/filesystem') as new (dir: string) => S3rverStore;
    const store = new FilesystemStore(dataDir);
    makeDurable(store);
    const size = 8 * 1024 * 1024;
    const key = 'envelopes/m1.json';
    await store.putObject({
      bucket: 'b',
      key,
      content: Buffer.alloc(size, 'a'),
      metadata: { 'content-type': 'application/json' },
    });
    const objectPath = store.getResourcePath('b', key, 'object');
    const metadataPath = store.getResourcePath('b', key, 'metadata.json');
    const seen = new Set<string>();
    let rewriting = true;
    const rewrite = store
      .putObject({
        bucket: 'b',
        key,
        content: Buffer.alloc(size, 'b'),
        metadata: { 'content-type': 'application/json' },
      })
      .finally(() => {
        rewriting = false;
      });
    // Read between every I/O callback of the rewrite, the way a restarted gateway would find the files.
    while (rewriting) {
      const content = readFileSync(objectPath);
      seen.add(
        content.length === size && (content.every((c) => c === 0x61) || content.every((c) => c === 0x62))
          ? `whole ${String.fromCharCode(content[0] ?? 0)}`
          : `torn at ${content.length} bytes`,
      );
      seen.add(`metadata ${JSON.parse(readFileSync(metadataPath, 'utf8'))['content-type']}`);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await rewrite;
    expect([...seen].filter((s) => s.startsWith('torn'))).toEqual([]);
    expect(readFileSync(objectPath).every((c) => c === 0x62)).toBe(true);
    expect(seen).toContain('metadata application/json');
  });
});
