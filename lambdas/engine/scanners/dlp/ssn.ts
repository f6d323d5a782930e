// US Social Security numbers: AAA-GG-SSSS with a valid area (not 000, 666 or 900-999), group (not
// 00) and serial (not 0000), minus the numbers the SSA retired after they were published. The dashed
// form stands alone; spaced or bare nine digits count only beside SSN words, since such runs are
// usually phone, zip+4 or account numbers. Evidence keeps the last two digits.

import { type DlpHit, hasContext } from './hit.ts';

const DASHED = /(?<![\w-])(\d{3})-(\d{2})-(\d{4})(?![\w-])/g;
const SPACED_OR_BARE = /(?<![\w-])(\d{3})[ ]?(\d{2})[ ]?(\d{4})(?![\w-])/g;
const SSN_WORDS = /\b(?:ssn|ss#|social security|social sec|soc\.? sec|taxpayer id|tin)\b/i;
const NOT_SSN_WORDS = /\b(?:phone|tel|fax|order|tracking|invoice|ref|zip|isbn|serial|ticket)\b/i;

/** Retired by the SSA after appearing in advertising (Woolworth's wallet card, a 1962 ad). */
const RETIRED = new Set(['078051120', '219099999']);

/** True when the area, group and serial are all in the ranges the SSA issues. */
export function ssnValid(area: string, group: string, serial: string): boolean {
  const a = Number(area);
  if (a === 0 || a === 666 || a >= 900) return false;
  if (group === '00' || serial === '0000') return false;
  return !RETIRED.has(area + group + serial);
}

export function findSsns(text: string): DlpHit[] {
  const hits: DlpHit[] = [];
  const seen = new Set<number>();
  for (const re of [DASHED, SPACED_OR_BARE]) {
    for (const m of text.matchAll(re)) {
      if (seen.has(m.index)) continue;
      const [, area = '', group = '', serial = ''] = m;
      if (!ssnValid(area, group, serial)) continue;
      const ssnContext = hasContext(text, m.index, m[0].length, SSN_WORDS);
      if (re !== DASHED && !ssnContext) continue;
      const before = text.slice(Math.max(0, m.index - 40), m.index);
      if (NOT_SSN_WORDS.test(before) && !ssnContext) continue;
      seen.add(m.index);
      hits.push({ symbol: 'DLP_US_SSN', redacted: `***-**-**${serial.slice(-2)}` });
    }
  }
  return hits;
}
