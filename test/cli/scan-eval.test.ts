import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { evalCommand } from '../../bin/commands/eval.ts';
import { scanCommand } from '../../bin/commands/scan.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'engine');
let dir: string;

/** Runs fn and returns what it wrote to stdout, as lines. */
async function captureStdout(fn: () => Promise<number>): Promise<{ code: number; lines: string[] }> {
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  try {
    const code = await fn();
    return { code, lines: chunks.join('').split('\n').filter(Boolean) };
  } finally {
    spy.mockRestore();
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'seg-scan-eval-'));
  const put = (label: string, name: string, from = name) => {
    mkdirSync(join(dir, label, 'nested'), { recursive: true });
    copyFileSync(join(FIXTURES, from), join(dir, label, 'nested', name));
  };
  put('ham', 'clean-plain.eml');
  put('ham', 'mime-broken-base64.eml');
  put('spam', 'gtube-in-body.eml');
  put('spam', 'spam-phrases.eml');
  put('phish', 'phish-href-mismatch.eml');
  // Not a message at all, and an mbox-style copy with a "From " separator line first.
  writeFileSync(join(dir, 'ham', 'garbage.bin'), Buffer.from([0, 255, 1, 254, 0x1b, 0x5b, 0x30]));
  writeFileSync(
    join(dir, 'ham', 'mbox-style.eml'),
    Buffer.concat([
      Buffer.from('From alice@example.org  Tue Nov  3 10:00:00 2026\n'),
      readFileSync(join(FIXTURES, 'clean-plain.eml')),
    ]),
  );
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});

afterAll(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

describe('scanCommand', () => {
  it('prints one JSON object per message under a folder, recursively', async () => {
    const { code, lines } = await captureStdout(() => scanCommand([dir], { json: true }));
    expect(code).toBe(0);
    expect(lines).toHaveLength(7);
    const rows = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const row of rows)
      expect(Object.keys(row).sort()).toEqual(['action', 'file', 'findings', 'reason', 'score', 'symbols']);
    const gtube = rows.find((r) => String(r['file']).endsWith('gtube-in-body.eml'));
    expect(gtube?.['action']).toBe('reject');
    expect(gtube?.['symbols']).toContain('GTUBE');
    // The verdict names its evidence, not only its symbols.
    const findings = gtube?.['findings'] as { symbol: string; weight: number; evidence?: string }[];
    expect(findings.find((f) => f.symbol === 'GTUBE')?.evidence).toBeTruthy();
    const classifier = rows
      .flatMap((r) => r['findings'] as { symbol: string; evidence?: string }[])
      .find((f) => f.symbol.startsWith('CLASSIFIER_'));
    expect(classifier?.evidence).toMatch(/\d/);
    const mbox = rows.find((r) => String(r['file']).endsWith('mbox-style.eml'));
    expect(mbox?.['action']).toBe('deliver');
  });

  it('prints a tab-separated line per file without --json', async () => {
    const file = join(dir, 'ham', 'nested', 'clean-plain.eml');
    const { lines } = await captureStdout(() => scanCommand([file], {}));
    expect(lines).toEqual([`${file}\tdeliver\t0\tDKIM_NONE DMARC_TEMPERROR`]);
  });

  it('returns 1 for a path that does not exist', async () => {
    const { code } = await captureStdout(() => scanCommand([join(dir, 'missing')], {}));
    expect(code).toBe(1);
  });
});

describe('evalCommand', () => {
  it('prints one JSON object with per-label counts', async () => {
    const { code, lines } = await captureStdout(() => evalCommand(dir, { json: true }));
    expect(code).toBe(0);
    expect(lines).toHaveLength(1);
    const summary = JSON.parse(lines[0] ?? '{}');
    expect(summary.ham).toMatchObject({ n: 4, flagged: 0 });
    expect(summary.spam).toMatchObject({ n: 2, caught: 2 });
    expect(summary.phish).toMatchObject({ n: 1, caught: 1 });
    expect(typeof summary.msgsPerSec).toBe('number');
  });

  it('scans at most --limit messages per label', async () => {
    const { lines } = await captureStdout(() => evalCommand(dir, { json: true, limit: 1 }));
    const summary = JSON.parse(lines[0] ?? '{}');
    expect([summary.ham.n, summary.spam.n, summary.phish.n]).toEqual([1, 1, 1]);
  });

  it('prints a confusion matrix and rates for people', async () => {
    const { lines } = await captureStdout(() => evalCommand(dir, {}));
    expect(lines[0]).toMatch(/^source\s+spam caught\s+phish caught\s+ham flagged$/);
    expect(lines.some((l) => /^TOTAL\s+100% \(2\/2\)\s+100% \(1\/1\)\s+0% \(0\/4\)$/.test(l))).toBe(true);
    expect(lines.some((l) => /label\s+n\s+deliver\s+tag\s+quarantine\s+reject\s+flagged/.test(l))).toBe(true);
    expect(lines.some((l) => l.startsWith('ham false-positive rate: 0% (0 of 4)'))).toBe(true);
    expect(lines.some((l) => /messages\/second/.test(l))).toBe(true);
  });
});

describe('seg scan --json as a process', () => {
  it('writes nothing but its results to stdout, even when a library logs (mailauth on a DKIM l= tag)', async () => {
    // A signature claiming more body than there is: mailauth's verifier console.logs the mismatch.
    const file = join(dir, 'dkim-length.eml');
    writeFileSync(
      file,
      [
        'DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=sel; l=100000; h=from:subject;',
        ' bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=dGVzdA==',
        'From: alice@example.org',
        'Subject: hello',
        '',
        'short body',
        '',
      ].join('\r\n'),
    );
    const seg = join(import.meta.dirname, '../../bin/seg.mjs');
    const { stdout } = await promisify(execFile)(process.execPath, [
      seg,
      'scan',
      '--json',
      '--av',
      'off',
      file,
    ]);
    const lines = stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      file,
      symbols: expect.arrayContaining(['DKIM_FAIL']),
    });
  }, 60_000);
});
