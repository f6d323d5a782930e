// What the issue asks of broken MIME that hides the EICAR test virus: `seg scan --json` over
// ../shared/corpus/peer/mime-is-broken/hide-content.d holds at least 99% of its 372 messages, through
// the real clamd, and the count is made of real detections (AV_INFECTED, ATTACHMENT_*), never of
// AV_ERROR failing closed. Skipped, saying why, only when the corpus is not on this machine.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { scanCommand } from '../../bin/commands/scan.ts';
import { startTestClamd } from '../support/av-samples.ts';

const CORPUS = resolve(
  process.env.SEG_CORPUS ?? resolve(import.meta.dirname, '../../../shared/corpus'),
  'peer/mime-is-broken/hide-content.d',
);
const present = existsSync(CORPUS);
if (!present) console.warn(`hide-content.d test skipped: ${CORPUS} is absent (set SEG_CORPUS)`);

describe.skipIf(!present)('seg scan --json on mime-is-broken hide-content.d', () => {
  let clamd: Awaited<ReturnType<typeof startTestClamd>>;
  let dir: string;

  beforeAll(async () => {
    clamd = await startTestClamd();
    dir = mkdtempSync(join(tmpdir(), 'seg-hide-content-'));
  });
  afterAll(async () => {
    await clamd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('holds at least 99% of the 372 messages by real detection, not by AV_ERROR', async () => {
    const config = join(dir, 'seg.config.json');
    writeFileSync(
      config,
      JSON.stringify({
        domains: [{ name: 'example.com', route: { host: 'mail.example.com' } }],
        antivirus: { clamd: clamd.socketPath },
      }),
    );
    const chunks: string[] = [];
    const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      chunks.push(String(chunk));
      return true;
    });
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let code: number;
    try {
      code = await scanCommand([CORPUS], { json: true, config, av: 'on' });
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
    const verdicts = chunks
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { file: string; action: string; symbols: string[] });
    const held = verdicts.filter((v) => v.action === 'quarantine' || v.action === 'reject');
    const detected = held.filter((v) =>
      v.symbols.some((s) => s === 'AV_INFECTED' || s.startsWith('ATTACHMENT_')),
    );
    const byAv = verdicts.filter((v) => v.symbols.includes('AV_INFECTED'));
    console.log(
      `hide-content.d: ${held.length} of ${verdicts.length} held; ${detected.length} by AV_INFECTED or ATTACHMENT_* ` +
        `(${byAv.length} by AV_INFECTED); AV_ERROR in ${verdicts.filter((v) => v.symbols.includes('AV_ERROR')).length}`,
    );
    expect(code).toBe(0);
    expect(verdicts).toHaveLength(372);
    expect(verdicts.filter((v) => v.symbols.includes('AV_ERROR'))).toEqual([]);
    expect(detected.length).toBeGreaterThanOrEqual(Math.ceil(0.99 * 372));
  }, 300_000);
});
