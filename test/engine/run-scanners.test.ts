import { describe, expect, it } from 'vitest';
import { runScanners } from '../../lambdas/engine/run-scanners.ts';
import { needsParse, type Scanner } from '../../lambdas/engine/scanner.ts';
import { SCANNER_GROUPS } from '../../lambdas/engine/scanners/index.ts';
import { ctxFrom, fixture, inputFrom, testConfig } from './helpers.ts';

const ok: Scanner = { name: 'ok', family: 'GTUBE', scan: async () => [{ symbol: 'GTUBE' }] };
const throws: Scanner = {
  name: 'throws',
  family: 'URL',
  scan: async () => {
    throw new Error('boom');
  },
};
let sawAbort = false;
const hangs: Scanner = {
  name: 'hangs',
  family: 'AUTH',
  scan: (_input, ctx) =>
    new Promise((resolve) => {
      ctx.signal.addEventListener('abort', () => {
        sawAbort = true;
        resolve([]);
      });
    }),
};

describe('runScanners', () => {
  it('returns one result per scanner, turning a throw and a timeout into _ERROR findings', async () => {
    const config = testConfig({ policy: { scannerTimeoutMs: 50 } });
    const { signal: _s, ...ctx } = ctxFrom(config);
    // Answers after a while, within the deadline: no error of its own while another times out.
    const slow: Scanner = {
      name: 'slow',
      family: 'MIME',
      scan: () => new Promise((resolve) => setTimeout(() => resolve([]), 10)),
    };
    const neverAnswers: Scanner = { name: 'never', family: 'CONTENT', scan: () => new Promise(() => {}) };
    const results = await runScanners(
      [ok, throws, hangs, slow, neverAnswers],
      await inputFrom(fixture('clean-plain.eml')),
      ctx,
    );
    expect(results.map((r) => r.scanner)).toEqual(['ok', 'throws', 'hangs', 'slow', 'never']);
    expect(results[0]?.findings).toEqual([{ symbol: 'GTUBE' }]);
    expect(results[1]?.findings).toEqual([{ symbol: 'URL_ERROR', evidence: 'throws: boom' }]);
    expect(results[2]?.findings).toEqual([
      { symbol: 'AUTH_ERROR', evidence: 'hangs: timed out after 50 ms' },
    ]);
    expect(results[3]?.findings).toEqual([]);
    expect(results[4]?.findings).toEqual([
      { symbol: 'CONTENT_ERROR', evidence: 'never: timed out after 50 ms' },
    ]);
    expect(sawAbort).toBe(true);
    for (const r of results) expect(r.ms).toBeGreaterThanOrEqual(0);
  });

  it('runs raw-only scanners without a parsed message and gives a scanner that needs one its _ERROR', async () => {
    const raw: Scanner = {
      name: 'raw',
      family: 'GTUBE',
      reads: 'raw',
      scan: async ({ raw }) => (raw.length > 0 ? [{ symbol: 'GTUBE' }] : []),
    };
    const { signal: _s, ...ctx } = ctxFrom(testConfig());
    const { parsed: _p, ...rawOnly } = await inputFrom(fixture('clean-plain.eml'));
    const results = await runScanners([raw, ok], rawOnly, ctx);
    expect(results[0]?.findings).toEqual([{ symbol: 'GTUBE' }]);
    expect(results[1]?.findings[0]?.symbol).toBe('GTUBE_ERROR');
  });
});

describe('needsParse', () => {
  it('is false only for the groups whose scanners all read the raw message', () => {
    expect(needsParse(SCANNER_GROUPS.auth)).toBe(false);
    expect(needsParse(SCANNER_GROUPS.attachments)).toBe(false);
    expect(needsParse(SCANNER_GROUPS.antivirus)).toBe(false);
    expect(needsParse(SCANNER_GROUPS.content)).toBe(true);
    expect(needsParse(SCANNER_GROUPS.lists)).toBe(true);
  });
});
