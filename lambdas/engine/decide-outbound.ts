// decideOutbound(): findings + the outbound policy -> verdict. Pure. Each symbol the policy names maps to
// tag, quarantine or block (config `outbound.actions`); the strongest wins; malware is always blocked. The verdict speaks the
// inbound action words so the workflow and traces share one shape: block is `reject`, send is `deliver`.

import type { OutboundAction, OutboundConfig, Policy } from '../config/schema.ts';
import { decide, MALWARE_SYMBOLS } from './decide.ts';
import type { Action, ScanResult, Verdict } from './types.ts';

const AS_ACTION: Record<OutboundAction, Action> = { tag: 'tag', quarantine: 'quarantine', block: 'reject' };
const RANK: Record<Action, number> = { deliver: 0, tag: 1, quarantine: 2, reject: 3 };

/** Turns outbound scan results into a verdict under `outbound.actions`. */
export function decideOutbound(
  results: readonly ScanResult[],
  outbound: OutboundConfig,
  policy: Policy,
): Verdict {
  const scored = decide(results, policy);
  let action: Action = 'deliver';
  const because: string[] = [];
  for (const f of scored.findings) {
    // Malware never leaves, whatever the policy says (as inbound, where it is never delivered).
    const configured = MALWARE_SYMBOLS.includes(f.symbol) ? 'block' : outbound.actions[f.symbol];
    if (!configured) continue;
    const a = AS_ACTION[configured];
    if (RANK[a] > RANK[action]) {
      action = a;
      because.length = 0;
    }
    if (a === action) because.push(f.evidence ? `${f.symbol} (${f.evidence})` : f.symbol);
  }
  const word = { deliver: 'send', tag: 'tag', quarantine: 'quarantine', reject: 'block' }[action];
  const reason =
    action === 'deliver'
      ? 'send: no finding the outbound policy acts on'
      : `${word}: ${[...new Set(because)].join('; ')}`;
  return { ...scored, action, reason: reason.slice(0, 1000) };
}
