// Per-detector precision and recall of the built-in DLP detectors on the project's labeled set.
// The floors are the measured figures: a change that loses a true positive or adds a false one fails.

import { describe, expect, it } from 'vitest';
import { BUILTIN_DETECTORS } from '../../../../lambdas/engine/scanners/dlp.ts';
import type { SymbolName } from '../../../../lambdas/engine/symbols.ts';
import { LABELED_SET } from '../../../fixtures/dlp/labeled-set.ts';

const SYMBOLS = [
  'DLP_CARD_NUMBER',
  'DLP_IBAN',
  'DLP_US_SSN',
  'DLP_AWS_ACCESS_KEY',
  'DLP_SECRET_TOKEN',
  'DLP_PRIVATE_KEY',
] as const satisfies readonly SymbolName[];

function detected(text: string): Set<SymbolName> {
  return new Set(BUILTIN_DETECTORS.flatMap((d) => d(text)).map((h) => h.symbol));
}

function measure() {
  const rows = SYMBOLS.map((symbol) => {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    const misses: string[] = [];
    for (const item of LABELED_SET) {
      const want = item.expect.includes(symbol);
      const got = detected(item.text).has(symbol);
      if (want && got) tp++;
      else if (got) {
        fp++;
        misses.push(`false positive: ${item.text}`);
      } else if (want) {
        fn++;
        misses.push(`missed: ${item.text}`);
      }
    }
    const positives = LABELED_SET.filter((i) => i.expect.includes(symbol)).length;
    return {
      symbol,
      positives,
      negatives: LABELED_SET.length - positives,
      precision: tp + fp === 0 ? 1 : tp / (tp + fp),
      recall: tp + fn === 0 ? 1 : tp / (tp + fn),
      misses,
    };
  });
  return rows;
}

describe('DLP detectors on the labeled set', () => {
  const rows = measure();
  // Printed so the figures in the report come from the run, not from memory.
  console.log(
    rows
      .map(
        (r) =>
          `${r.symbol.padEnd(20)} positives ${String(r.positives).padStart(2)}  precision ${r.precision.toFixed(2)}  recall ${r.recall.toFixed(2)}`,
      )
      .join('\n'),
  );

  it('holds positives and near misses for every detector', () => {
    for (const r of rows) expect(r.positives, r.symbol).toBeGreaterThanOrEqual(3);
    expect(LABELED_SET.filter((i) => i.expect.length === 0).length).toBeGreaterThanOrEqual(40);
  });

  it.each(SYMBOLS)('finds %s with precision 1 and recall 1 on the set', (symbol) => {
    const row = rows.find((r) => r.symbol === symbol);
    expect(row?.misses).toEqual([]);
    expect(row?.precision).toBe(1);
    expect(row?.recall).toBe(1);
  });

  it('emits nothing on a text with no sensitive data at all', () => {
    expect([...detected('Hello Bob, lunch on Friday at 12:30? Room 4, floor 11. Cheers, Alice')]).toEqual([]);
  });
});
