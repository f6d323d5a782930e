// What a DLP detector reports, and the helpers every detector shares: context words near a match
// and redaction. A hit never holds the matched secret itself, only its redacted form.

import type { SymbolName } from '../../symbols.ts';

/** One match of a detector in one text, already redacted. */
export interface DlpHit {
  readonly symbol: SymbolName;
  /** What a person may see: issuer and last digits, a key's prefix, a rule name. Never the secret. */
  readonly redacted: string;
  /** The custom rule that matched (national IDs, dictionaries, regexes); counted per rule. */
  readonly rule?: string;
}

/** A detector: finds its kind of sensitive data in one text. Pure, bounded by the caller's text cap. */
export type DlpDetector = (text: string) => DlpHit[];

/** True when `words` matches within `before` chars before the match or `after` chars after it. */
export function hasContext(
  text: string,
  index: number,
  length: number,
  words: RegExp,
  before = 60,
  after = 40,
): boolean {
  const window = text.slice(Math.max(0, index - before), index + length + after);
  return words.test(window);
}

/** The same text with a char class masked, keeping the last `keep` chars: `************1111`. */
export function maskAllBut(value: string, keep: number, mask = '*'): string {
  if (value.length <= keep) return mask.repeat(value.length);
  return mask.repeat(value.length - keep) + value.slice(-keep);
}
