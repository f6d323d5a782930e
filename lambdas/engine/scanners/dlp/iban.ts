// IBANs: a country code, two check digits and the country's fixed-length account part, written
// compact or in groups of four, that pass the ISO 13616 mod-97 check. The per-country length and
// mod-97 together make a random match about one in a hundred million, so no context is required.

import { type DlpHit, maskAllBut } from './hit.ts';

/** IBAN length per country (SWIFT IBAN registry). */
// biome-ignore format: a table reads better in rows
export const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BR: 29, BY: 28, CH: 21,
  CR: 22, CY: 28, CZ: 24, DE: 22, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FO: 18, FR: 27,
  GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26,
  IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20, LV: 21, MC: 27, MD: 24,
  ME: 22, MK: 19, MR: 27, MT: 31, MU: 30, NL: 18, NO: 15, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29,
  RO: 24, RS: 22, SA: 24, SC: 31, SE: 24, SI: 19, SK: 24, SM: 27, ST: 25, SV: 28, TL: 23, TN: 24,
  TR: 26, UA: 29, VA: 22, VG: 24, XK: 20,
};

// A start: country letters and check digits at a word boundary. The rest is read char by char.
const START = /(?<![\w])([A-Z]{2})(\d{2})/gi;

/** ISO 13616: move the first four chars to the end, letters to 10..35, the number mod 97 is 1. */
export function ibanValid(compact: string): boolean {
  const iban = compact.toUpperCase();
  if (IBAN_LENGTHS[iban.slice(0, 2)] !== iban.length || !/^[A-Z0-9]+$/.test(iban)) return false;
  const moved = iban.slice(4) + iban.slice(0, 4);
  let rest = 0;
  for (const ch of moved) {
    const code = ch.charCodeAt(0);
    const value = code >= 65 ? String(code - 55) : ch;
    for (const digit of value) rest = (rest * 10 + (digit.charCodeAt(0) - 48)) % 97;
  }
  return rest === 1;
}

export function findIbans(text: string): DlpHit[] {
  const hits: DlpHit[] = [];
  for (const m of text.matchAll(START)) {
    const country = (m[1] ?? '').toUpperCase();
    const length = IBAN_LENGTHS[country];
    if (!length) continue;
    // Read exactly the country's length of alphanumerics, allowing single spaces between them.
    let compact = m[0].toUpperCase();
    let i = m.index + m[0].length;
    while (compact.length < length && i < text.length) {
      const ch = text[i] ?? '';
      if (/[A-Za-z0-9]/.test(ch)) compact += ch.toUpperCase();
      else if (ch !== ' ' || !/[A-Za-z0-9]/.test(text[i + 1] ?? '')) break;
      i++;
    }
    if (compact.length !== length || /[A-Za-z0-9]/.test(text[i] ?? '')) continue;
    if (!ibanValid(compact)) continue;
    hits.push({ symbol: 'DLP_IBAN', redacted: `${country}${maskAllBut(compact.slice(2), 4)}` });
  }
  return hits;
}
