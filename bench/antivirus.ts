// Antivirus benchmark: messages with attachments through seg's engine with clamd (parse, every
// scanner, extraction of every file, INSTREAM of the message and each file) beside ClamAV's own
// clamdscan on the same files against the same clamd. Prints figures; asserts nothing.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { clamdFiles, startClamd } from '../lambdas/adapters/clamd/clamd-daemon.ts';
import type { SegConfig } from '../lambdas/config/schema.ts';
import { offlineResolver, scanMessage } from '../lambdas/engine/scan-message.ts';
import { SIGNATURES_DIR } from '../lambdas/local/local-antivirus.ts';
import { cleanDocx, cleanPdf, EICAR, messageWith } from '../test/support/av-samples.ts';
import { buildZip } from '../test/support/zip.ts';

const run = promisify(execFile);

/** Generated mail with attachments: clean PDFs and Word files, zips, and one EICAR zip in ten. */
async function generatedWithAttachments(n: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const files = [
      { filename: `invoice-${i}.pdf`, content: cleanPdf(`Invoice ${i}`) },
      { filename: `report-${i}.docx`, content: cleanDocx(`Report ${i}`) },
      {
        filename: `bundle-${i}.zip`,
        content: buildZip([
          { name: 'notes.txt', data: Buffer.from(`notes ${i}\n`.repeat(200)) },
          ...(i % 10 === 0 ? [{ name: 'setup.exe', data: EICAR }] : []),
        ]),
      },
    ];
    out.push(await messageWith(files, `attachments ${i}`));
  }
  return out;
}

export async function benchAntivirus(config: SegConfig, corpus: string): Promise<Record<string, unknown>[]> {
  const dir = await mkdtemp(join(tmpdir(), 'seg-bench-av-'));
  const clamd = await startClamd({ dir: join(dir, 'clamd'), signatureDirs: [SIGNATURES_DIR] });
  try {
    const sets: [string, Buffer[]][] = [
      ['generated (pdf + docx + zip)', await generatedWithAttachments(300)],
    ];
    const hide = join(corpus, 'peer/mime-is-broken/hide-content.d/new');
    if (existsSync(hide)) {
      const names = (await readdir(hide)).sort();
      sets.push([
        'mime-is-broken hide-content.d',
        await Promise.all(names.map((n) => readFile(join(hide, n)))),
      ]);
    }
    const rows: Record<string, unknown>[] = [];
    for (const [name, messages] of sets) {
      const folder = join(dir, `set-${rows.length}`);
      await run('mkdir', ['-p', folder]);
      await Promise.all(messages.map((m, i) => writeFile(join(folder, `${i}.eml`), m)));
      const mib = messages.reduce((n, m) => n + m.length, 0) / 1024 / 1024;

      let held = 0;
      const t0 = performance.now();
      for (const raw of messages) {
        const { verdict } = await scanMessage(raw, {
          config,
          resolver: offlineResolver,
          antivirus: clamd.client,
        });
        if (verdict.symbols.includes('AV_INFECTED')) held++;
      }
      const segSeconds = (performance.now() - t0) / 1000;

      const clamdscan = async (args: string[]) => {
        const started = performance.now();
        // clamdscan exits 1 when it found something: not an error here.
        const out = await run(
          'clamdscan',
          ['--config-file', clamdFiles(join(dir, 'clamd')).config, '--no-summary', ...args, folder],
          { maxBuffer: 64 * 1024 * 1024 },
        ).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
        return {
          seconds: (performance.now() - started) / 1000,
          found: out.stdout.split('\n').filter((l) => l.endsWith(' FOUND')).length,
        };
      };
      const byPath = await clamdscan(['--multiscan']);
      const streamed = await clamdscan(['--stream']);
      rows.push({
        set: name,
        messages: messages.length,
        MiB: Number(mib.toFixed(1)),
        'seg msg/s (all scanners + clamd)': Math.round(messages.length / segSeconds),
        'seg AV_INFECTED': held,
        'clamdscan --multiscan msg/s': Math.round(messages.length / byPath.seconds),
        'clamdscan --stream msg/s': Math.round(messages.length / streamed.seconds),
        'clamdscan FOUND': byPath.found,
      });
    }
    return rows;
  } finally {
    await clamd.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
