// Credentials: AWS access key ids, secret-looking tokens (known vendor formats, an AWS secret key or
// a random-looking value assigned to a secret-ish name) and PEM private keys. Random-looking means
// enough entropy and mixed character classes, so `password = changeme` in a how-to is not a secret.
// Evidence is the token's kind and a short prefix a person can recognise, never the token.

import type { DlpHit } from './hit.ts';

// AWS key ids: a four-letter type prefix and 16 uppercase base-32ish chars.
const AWS_KEY_ID = /(?<![A-Za-z0-9])((?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})(?![A-Za-z0-9])/g;
// AWS documents AKIAIOSFODNN7EXAMPLE and its secret: examples in docs and tickets, not leaks.
const AWS_EXAMPLE = /EXAMPLE(?:KEY)?$/;

const VENDOR_TOKENS: readonly { readonly kind: string; readonly re: RegExp }[] = [
  { kind: 'github', re: /(?<![\w])(gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{60,90})(?![\w])/g },
  { kind: 'slack', re: /(?<![\w-])(xox[abposr]-[A-Za-z0-9-]{10,72})(?![\w-])/g },
  { kind: 'stripe', re: /(?<![\w])((?:sk|rk)_live_[A-Za-z0-9]{24,99})(?![\w])/g },
  { kind: 'google-api', re: /(?<![\w-])(AIza[0-9A-Za-z_-]{35})(?![\w-])/g },
];

// `name = value` where the name says secret. The value is checked for randomness below.
const ASSIGNED =
  /\b(aws_secret_access_key|secret[_ -]?access[_ -]?key|client[_-]?secret|api[_-]?key|api[_-]?secret|access[_-]?token|auth[_-]?token|secret[_-]?key|secret|token|passw(?:or)?d|pwd)\b["']?\s*(?:[:=]|=>)\s*["']?([A-Za-z0-9_\-/+=.]{16,200})/gi;

// The header alone is talked about in how-tos; a key has base64 body lines (after optional
// Proc-Type/DEK-Info or PGP armor headers) right below it.
const PEM_PRIVATE_KEY =
  /-----BEGIN ((?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?)-----\r?\n(?:[\w-]+: [^\n]{0,200}\n){0,4}\s*[A-Za-z0-9+/=]{40,}/g;

/** Shannon entropy in bits per char. */
export function entropy(value: string): number {
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) bits -= (n / value.length) * Math.log2(n / value.length);
  return bits;
}

/**
 * Random-looking: letters and digits mixed with 3.5+ bits per char. Without capitals, only a long hex
 * string (32+, as API tokens are) counts: `changeme123456789` has the entropy but not the look.
 */
export function looksRandom(value: string): boolean {
  if (value.length < 16 || !/\d/.test(value) || !/[a-z]/i.test(value)) return false;
  if (/^[a-z0-9_-]+$/.test(value))
    return value.length >= 32 && /^[0-9a-f]+$/.test(value) && entropy(value) >= 3.5;
  return /[A-Z]/.test(value) && /[a-z]/.test(value) && entropy(value) >= 3.5;
}

const prefix = (token: string, n: number): string => `${token.slice(0, n)}... (${token.length} chars)`;

export function findAwsKeys(text: string): DlpHit[] {
  const hits: DlpHit[] = [];
  for (const m of text.matchAll(AWS_KEY_ID)) {
    const key = m[1] ?? '';
    if (AWS_EXAMPLE.test(key)) continue;
    hits.push({ symbol: 'DLP_AWS_ACCESS_KEY', redacted: prefix(key, 4) });
  }
  return hits;
}

export function findSecretTokens(text: string): DlpHit[] {
  const hits: DlpHit[] = [];
  for (const { kind, re } of VENDOR_TOKENS) {
    for (const m of text.matchAll(re)) {
      hits.push({ symbol: 'DLP_SECRET_TOKEN', redacted: `${kind} ${prefix(m[1] ?? '', 4)}` });
    }
  }
  for (const m of text.matchAll(ASSIGNED)) {
    const name = (m[1] ?? '').toLowerCase();
    const value = (m[2] ?? '').replace(/[.=]+$/, '');
    if (AWS_EXAMPLE.test(value) || !looksRandom(value)) continue;
    if (VENDOR_TOKENS.some(({ re }) => new RegExp(re.source).test(value))) continue;
    hits.push({ symbol: 'DLP_SECRET_TOKEN', redacted: `${name} = ${prefix(value, 2)}` });
  }
  return hits;
}

export function findPrivateKeys(text: string): DlpHit[] {
  return [...text.matchAll(PEM_PRIVATE_KEY)].map((m) => ({
    symbol: 'DLP_PRIVATE_KEY' as const,
    redacted: `PEM ${m[1]}`,
  }));
}
