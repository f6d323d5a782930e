// Payment card numbers: 13-19 digits, contiguous or grouped with one kind of separator (space, dash,
// dot), that pass the Luhn check and fall in a known issuer range. Context decides the doubtful
// cases: a number introduced as an order, tracking or invoice number is not a card unless card
// words are near it too. Evidence keeps the issuer and the last four digits (what PCI DSS allows).

import { type DlpHit, hasContext, maskAllBut } from './hit.ts';

// Candidates: a run of 13-19 digits, or 4-digit groups joined by one repeated separator (4-4-4-4,
// 4-4-4-4-3, Amex 4-6-5, Diners 4-6-4). Lookarounds keep them from being cut out of longer numbers.
const CONTIGUOUS = /(?<![\w./-]|\d,)\d{13,19}(?![\w/-]|[.,]\d)/g;
const GROUPED =
  /(?<![\w./-]|\d,)\d{4}([ .-]|\u00a0)(?:\d{4}\1\d{4}\1\d{1,4}(?:\1\d{3})?|\d{6}\1\d{4,5})(?![\w/-]|[.,]\d)/g;

const CARD_WORDS =
  /\b(?:card|credit|debit|visa|master ?card|amex|american express|discover|jcb|diners|ccn|cvv|cvc|cv2|expir\w*|exp|expiry|pan)\b|\bcc ?(?:#|no\b|num)/i;
const NOT_CARD_WORDS =
  /\b(?:order|tracking|track|invoice|ref(?:erence)?|serial|isbn|phone|tel|fax|ticket|case|shipment|parcel|awb|customer (?:no|number|id)|account id|transaction id|po)\b|#\s*$/i;

interface Issuer {
  readonly name: string;
  readonly test: (digits: string) => boolean;
}

const prefixIn = (digits: string, len: number, lo: number, hi: number): boolean => {
  const p = Number(digits.slice(0, len));
  return p >= lo && p <= hi;
};

const ISSUERS: readonly Issuer[] = [
  { name: 'visa', test: (d) => d.startsWith('4') && [13, 16, 19].includes(d.length) },
  {
    name: 'mastercard',
    test: (d) => d.length === 16 && (prefixIn(d, 2, 51, 55) || prefixIn(d, 4, 2221, 2720)),
  },
  { name: 'amex', test: (d) => d.length === 15 && (d.startsWith('34') || d.startsWith('37')) },
  {
    name: 'discover',
    test: (d) =>
      d.length >= 16 &&
      (d.startsWith('6011') ||
        d.startsWith('65') ||
        prefixIn(d, 3, 644, 649) ||
        prefixIn(d, 6, 622126, 622925)),
  },
  { name: 'jcb', test: (d) => d.length >= 16 && prefixIn(d, 4, 3528, 3589) },
  {
    name: 'diners',
    test: (d) =>
      d.length >= 14 &&
      (prefixIn(d, 3, 300, 305) || d.startsWith('36') || d.startsWith('38') || d.startsWith('39')),
  },
  { name: 'unionpay', test: (d) => d.length >= 16 && d.startsWith('62') },
];

/** The Luhn (mod 10) check every card number carries in its last digit. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let n = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      n *= 2;
      if (n > 9) n -= 9;
    }
    sum += n;
  }
  return sum % 10 === 0;
}

/** The issuer a Luhn-valid number belongs to, or undefined when it is no card number. */
export function cardIssuer(digits: string): string | undefined {
  if (!/^\d{13,19}$/.test(digits) || !luhnValid(digits)) return undefined;
  // All one digit (0000..., 4444...) passes Luhn for some lengths but is filler, not a card.
  if (/^(\d)\1+$/.test(digits)) return undefined;
  return ISSUERS.find((i) => i.test(digits))?.name;
}

export function findCards(text: string): DlpHit[] {
  const hits: DlpHit[] = [];
  const seen = new Set<number>();
  for (const re of [GROUPED, CONTIGUOUS]) {
    for (const m of text.matchAll(re)) {
      if (seen.has(m.index)) continue;
      const digits = m[0].replace(/\D/g, '');
      const issuer = cardIssuer(digits);
      if (!issuer) continue;
      const grouped = re === GROUPED;
      const cardContext = hasContext(text, m.index, m[0].length, CARD_WORDS);
      const before = text.slice(Math.max(0, m.index - 40), m.index);
      // An identifier introduced as something else is not a card, unless card words are near it too.
      if (NOT_CARD_WORDS.test(before) && !cardContext) continue;
      // A bare run of digits with no card words is too often an id that happens to pass Luhn.
      if (!grouped && !cardContext && digits.length !== 16 && digits.length !== 15) continue;
      seen.add(m.index);
      hits.push({ symbol: 'DLP_CARD_NUMBER', redacted: `${issuer} ${maskAllBut(digits, 4)}` });
    }
  }
  return hits;
}
