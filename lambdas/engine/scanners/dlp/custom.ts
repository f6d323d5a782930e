// The detectors an organisation configures: national ID formats (with optional context words),
// dictionaries of words or phrases, and free regexes. Each hit names its rule; the scanner counts
// hits per rule against the rule's minMatches. Evidence is the rule name, never the matched text.

import type { DlpConfig } from '../../../config/schema.ts';
import { type DlpDetector, type DlpHit, hasContext } from './hit.ts';

// One rule cannot flood a message's findings: beyond this many hits the count is already decisive.
const MAX_HITS_PER_RULE = 1000;

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function matches(text: string, re: RegExp): RegExpExecArray[] {
  const out: RegExpExecArray[] = [];
  re.lastIndex = 0;
  for (let m = re.exec(text); m && out.length < MAX_HITS_PER_RULE; m = re.exec(text)) {
    out.push(m);
    if (m[0].length === 0) re.lastIndex++;
  }
  return out;
}

/** Builds the configured detectors once per config (regexes compiled once, not per message). */
export function customDetectors(dlp: DlpConfig): DlpDetector[] {
  const detectors: DlpDetector[] = [];
  for (const rule of dlp.nationalIds) {
    const re = new RegExp(rule.pattern, 'gu');
    const context = rule.contextWords.length
      ? new RegExp(`(?:^|\\W)(?:${rule.contextWords.map(escapeRegex).join('|')})(?:\\W|$)`, 'iu')
      : undefined;
    detectors.push((text) =>
      matches(text, re)
        .filter((m) => !context || hasContext(text, m.index, m[0].length, context))
        .map((): DlpHit => ({ symbol: 'DLP_NATIONAL_ID', redacted: rule.name, rule: rule.name })),
    );
  }
  for (const rule of dlp.dictionaries) {
    const re = new RegExp(
      `(?<![\\p{L}\\p{N}])(?:${rule.words.map(escapeRegex).join('|')})(?![\\p{L}\\p{N}])`,
      'giu',
    );
    detectors.push((text) =>
      matches(text, re).map(
        (): DlpHit => ({ symbol: 'DLP_DICTIONARY', redacted: rule.name, rule: rule.name }),
      ),
    );
  }
  for (const rule of dlp.regexes) {
    const re = new RegExp(rule.pattern, 'gu');
    detectors.push((text) =>
      matches(text, re).map((): DlpHit => ({ symbol: 'DLP_REGEX', redacted: rule.name, rule: rule.name })),
    );
  }
  return detectors;
}

/** minMatches per rule name, for the scanner's count check. */
export function minMatchesByRule(dlp: DlpConfig): Map<string, number> {
  return new Map(
    [...dlp.nationalIds, ...dlp.dictionaries, ...dlp.regexes].map((r) => [r.name, r.minMatches]),
  );
}
