// The antivirus Lambda's definitions path, with the real AWS SDK against s3rver and the real clamd:
// the scheduled job stores definitions and their manifest; the scanner starts clamd with them, checks
// for new ones at most hourly and reloads; with none stored it refuses to answer (AV_ERROR upstream).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3MessageStore } from '../../lambdas/adapters/aws/s3-message-store.ts';
import { RefreshingClamd } from '../../lambdas/adapters/clamd/refreshing-clamd.ts';
import { RecordingLogger } from '../../lambdas/adapters/local/observability.ts';
import { AntivirusUnavailableError } from '../../lambdas/errors.ts';
import { createAvDefinitionsHandler } from '../../lambdas/handlers/av-definitions.ts';
import { KEYS } from '../../lambdas/handlers/deps.ts';
import { EICAR, SIGNATURES_DIR } from '../support/av-samples.ts';
import { type LocalAws, startLocalAws } from '../support/local-aws.ts';

const hex = (text: string) => Buffer.from(text).toString('hex');
/** Stand-ins for freshclam's databases: text signatures of harmless strings, one per "release". */
const release = (n: number) => `Vendor.Test.Release${n}:0:*:${hex(`vendor release ${n} test pattern`)}\n`;

let aws: LocalAws;
let store: S3MessageStore;
let dir: string;
beforeAll(async () => {
  aws = await startLocalAws();
  store = new S3MessageStore({ client: aws.s3, bucket: aws.bucket });
  dir = await mkdtemp(join(tmpdir(), 'seg-avdefs-'));
});
afterAll(async () => {
  await aws?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The scheduled job with an updater that "downloads" release n (freshclam needs the network). */
const publish = (n: number) =>
  createAvDefinitionsHandler({
    store,
    clock: () => new Date('2026-11-30T12:00:00Z'),
    logger: new RecordingLogger(),
    dir: join(dir, `updater-${n}`),
    update: async (into) => {
      await mkdir(into, { recursive: true });
      await writeFile(join(into, 'vendor.ndb'), release(n));
      return { files: ['vendor.ndb'], version: `vendor:${n}` };
    },
  })();

describe('antivirus definitions', () => {
  it('refuses to answer before any definitions are stored', async () => {
    const engine = new RefreshingClamd({
      store,
      dir: join(dir, 'empty'),
      signatureDirs: [SIGNATURES_DIR],
      clock: () => new Date(),
    });
    await expect(engine.scan(EICAR, 'eicar.com')).rejects.toBeInstanceOf(AntivirusUnavailableError);
    await expect(engine.scan(EICAR, 'eicar.com')).rejects.toThrow(
      /no antivirus definitions at av-definitions\//,
    );
  });

  it('stores the files before the manifest, and skips an unchanged release', async () => {
    expect(await publish(1)).toEqual({ version: 'vendor:1', uploaded: ['vendor.ndb'] });
    expect(JSON.parse(Buffer.from(await store.get(KEYS.avManifest)).toString())).toEqual({
      version: 'vendor:1',
      files: ['vendor.ndb'],
      updatedAt: '2026-11-30T12:00:00.000Z',
    });
    expect(await publish(1)).toEqual({ version: 'vendor:1', uploaded: [] });
  });

  it('starts clamd with the stored definitions and the project signatures, and reloads at most hourly', async () => {
    let now = Date.parse('2026-11-30T12:00:00Z');
    const engine = new RefreshingClamd({
      store,
      dir: join(dir, 'scanner'),
      signatureDirs: [SIGNATURES_DIR],
      clock: () => new Date(now),
    });
    try {
      expect((await engine.scan(Buffer.from('x vendor release 1 test pattern x'), 'a')).signature).toBe(
        'Vendor.Test.Release1.UNOFFICIAL',
      );
      expect((await engine.scan(EICAR, 'eicar.com')).signature).toBe('Seg.Test.EICAR.UNOFFICIAL');

      await publish(2);
      now += 30 * 60_000; // half an hour: not checked yet
      expect((await engine.scan(Buffer.from('vendor release 2 test pattern'), 'b')).infected).toBe(false);
      now += 31 * 60_000; // past the hour: pulled and reloaded
      await engine.ready();
      // clamd reloads in the background; give it a moment to swap databases.
      let verdict = await engine.scan(Buffer.from('vendor release 2 test pattern'), 'b');
      for (let i = 0; i < 50 && !verdict.infected; i++) {
        await new Promise((r) => setTimeout(r, 100));
        verdict = await engine.scan(Buffer.from('vendor release 2 test pattern'), 'b');
      }
      expect(verdict.signature).toBe('Vendor.Test.Release2.UNOFFICIAL');
    } finally {
      await engine.stop();
    }
  });
});
