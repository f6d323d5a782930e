// DLP: finds sensitive data leaving the organisation (cards, IBANs, SSNs, national IDs, credentials,
// private keys, configured words and patterns) in the subject, bodies and attachment text. One
// finding per kind (per rule for configured ones) with a count, the places and redacted examples:
// the matched value itself never leaves this module. The detectors live in ./dlp/, one per kind.

import { DlpSchema } from '../../config/schema.ts';
import type { Scanner } from '../scanner.ts';
import type { Finding } from '../types.ts';
import { findCards } from './dlp/cards.ts';
import { customDetectors, minMatchesByRule } from './dlp/custom.ts';
import type { DlpDetector, DlpHit } from './dlp/hit.ts';
import { findIbans } from './dlp/iban.ts';
import { findAwsKeys, findPrivateKeys, findSecretTokens } from './dlp/secrets.ts';
import { collectSources } from './dlp/sources.ts';
import { findSsns } from './dlp/ssn.ts';

/** The built-in detectors, each a pure function of one text. */
export const BUILTIN_DETECTORS: readonly DlpDetector[] = [
  findCards,
  findIbans,
  findSsns,
  findAwsKeys,
  findSecretTokens,
  findPrivateKeys,
];

const DEFAULT_DLP = DlpSchema.parse({});
// Redacted examples per finding: enough to recognise the data, few enough to keep evidence short.
const MAX_EXAMPLES = 3;
const MAX_EVIDENCE_CHARS = 300;

const compiled = new WeakMap<object, { detectors: DlpDetector[]; minMatches: Map<string, number> }>();
function configured(dlp: typeof DEFAULT_DLP) {
  let c = compiled.get(dlp);
  if (!c) {
    c = { detectors: [...BUILTIN_DETECTORS, ...customDetectors(dlp)], minMatches: minMatchesByRule(dlp) };
    compiled.set(dlp, c);
  }
  return c;
}

interface Tally {
  readonly hit: DlpHit;
  count: number;
  readonly examples: Set<string>;
  readonly wheres: Set<string>;
}

export const dlp: Scanner = {
  name: 'dlp',
  family: 'DLP',
  async scan(input, ctx) {
    const rules = ctx.dlp ?? DEFAULT_DLP;
    const { detectors, minMatches } = configured(rules);
    const { sources, unscanned } = await collectSources(input, rules);
    const tallies = new Map<string, Tally>();
    for (const source of sources) {
      if (ctx.signal.aborted) break;
      for (const detect of detectors) {
        for (const hit of detect(source.text)) {
          const key = `${hit.symbol}/${hit.rule ?? ''}`;
          const t = tallies.get(key) ?? { hit, count: 0, examples: new Set(), wheres: new Set() };
          t.count++;
          if (t.examples.size < MAX_EXAMPLES) t.examples.add(hit.redacted);
          t.wheres.add(source.where);
          tallies.set(key, t);
        }
      }
    }
    const findings: Finding[] = [];
    for (const t of tallies.values()) {
      if (t.hit.rule !== undefined && t.count < (minMatches.get(t.hit.rule) ?? 1)) continue;
      const what = t.hit.rule !== undefined ? `rule ${t.hit.rule}` : [...t.examples].join(', ');
      const evidence = `${what} in ${[...t.wheres].join(', ')} (${t.count} found)`;
      findings.push({ symbol: t.hit.symbol, evidence: evidence.slice(0, MAX_EVIDENCE_CHARS) });
    }
    if (unscanned.length > 0)
      findings.push({ symbol: 'DLP_TRUNCATED', evidence: unscanned.join('; ').slice(0, MAX_EVIDENCE_CHARS) });
    return findings;
  },
};
