// decide(): findings + policy -> verdict. Pure: no I/O, no clock, same input same output.
// Score = sum of weights; thresholds pick deliver/tag/quarantine/reject (reject means hold: the
// workflow quarantines it, it never bounces after acceptance); a few symbols force a minimum action.

import type { Policy } from '../config/schema.ts';
import { type Family, SYMBOLS, type SymbolName } from './symbols.ts';
import type { Action, ScanResult, ScoredFinding, Verdict } from './types.ts';

const RANK: Record<Action, number> = { deliver: 0, tag: 1, quarantine: 2, reject: 3 };

/**
 * Symbols that force at least this action whatever the score. Malware and GTUBE are never delivered,
 * so no allow-list weight can pull them back below the threshold.
 */
export const FORCED_ACTIONS: Partial<Record<SymbolName, Action>> = {
  GTUBE: 'quarantine',
  SES_VIRUS_FAIL: 'quarantine',
  AV_INFECTED: 'quarantine',
  LIST_SENDER_BLOCKED: 'quarantine',
  // The operator's blocked attachment types are held whoever sends them.
  ATTACHMENT_BLOCKED_TYPE: 'quarantine',
};

/**
 * Symbols that mean malware: a message held with one of them is released only by an administrator's
 * explicit override (`seg quarantine release --force`), never by a routine release.
 */
export const MALWARE_SYMBOLS: readonly SymbolName[] = ['AV_INFECTED', 'SES_VIRUS_FAIL'];

/** The weight a finding counts for: policy override, else the scanner's own, else the table's. */
export function weightOf(symbol: SymbolName, findingWeight: number | undefined, policy: Policy): number {
  return policy.weights[symbol] ?? findingWeight ?? SYMBOLS[symbol].weight;
}

const round = (n: number): number => Math.round(n * 100) / 100;
const maxAction = (a: Action, b: Action): Action => (RANK[a] >= RANK[b] ? a : b);

/** Turns scan results into a verdict under `policy`. */
export function decide(results: readonly ScanResult[], policy: Policy): Verdict {
  const findings: ScoredFinding[] = results
    .flatMap((r) =>
      r.findings.map((f) => ({
        ...f,
        family: SYMBOLS[f.symbol]?.family ?? r.family,
        weight: weightOf(f.symbol, f.weight, policy),
      })),
    )
    .sort((a, b) => b.weight - a.weight || a.symbol.localeCompare(b.symbol));

  const score = round(findings.reduce((sum, f) => sum + f.weight, 0));
  const t = policy.thresholds;
  const byScore: Action =
    score >= t.reject ? 'reject' : score >= t.quarantine ? 'quarantine' : score >= t.tag ? 'tag' : 'deliver';
  const threshold = { reject: t.reject, quarantine: t.quarantine, tag: t.tag, deliver: t.tag }[byScore];

  // Forced minimums: listed symbols, and the _ERROR of a family the policy runs fail-closed.
  let forced: Action = 'deliver';
  let forcedBy = '';
  for (const f of findings) {
    const min = FORCED_ACTIONS[f.symbol];
    if (min && RANK[min] > RANK[forced]) {
      forced = min;
      forcedBy = `${f.symbol} is never delivered`;
    }
  }
  const closed = policy.failClosed.find((family: Family) =>
    findings.some((f) => f.symbol === `${family}_ERROR`),
  );
  if (closed && RANK.quarantine > RANK[forced]) {
    forced = 'quarantine';
    forcedBy = `${closed} failed closed`;
  }

  const action = maxAction(byScore, forced);
  const top = findings
    .filter((f) => f.weight !== 0)
    .slice(0, 5)
    .map((f) => `${f.symbol} ${f.weight}`);
  const detail = top.length ? ` (${top.join(', ')})` : '';
  let reason: string;
  if (RANK[forced] > RANK[byScore]) reason = `${action}: ${forcedBy}; score ${score}${detail}`;
  else if (action === 'deliver') reason = `deliver: score ${score} < ${t.tag}${detail}`;
  else reason = `${action}: score ${score} >= ${threshold}${detail}`;

  const symbols = [...new Set(findings.map((f) => f.symbol))];
  const timings: Record<string, number> = {};
  for (const r of results) timings[r.scanner] = r.ms;
  return { action, score, symbols, findings, reason, policyVersion: policy.version, timings };
}
