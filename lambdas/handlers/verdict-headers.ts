// The gateway's header values for a verdict: X-SEG-* and Authentication-Results from the trace's
// AUTH findings (the engine formats those). Shared by deliver and release.

import type { SegConfig } from '../config/schema.ts';
import { authResultsHeader } from '../engine/auth-results.ts';
import type { Action, Verdict } from '../engine/types.ts';
import type { VerdictHeaders } from './outgoing-message.ts';

/** Our authserv-id: the first protected domain, the name downstream filters know us by. */
export const authservId = (config: SegConfig): string => config.domains[0]?.name ?? 'localhost';

export function verdictHeaders(
  config: SegConfig,
  summary: { readonly action: Action; readonly score: number; readonly symbols: readonly string[] },
  full?: Verdict,
  extra?: VerdictHeaders['extra'],
): VerdictHeaders {
  const authFindings = (full?.findings ?? []).filter((f) => f.family === 'AUTH');
  return {
    action: summary.action,
    score: summary.score,
    symbols: summary.symbols,
    authservId: authservId(config),
    subjectTag: config.policy.subjectTag,
    ...(authFindings.length ? { authResults: authResultsHeader(authservId(config), authFindings) } : {}),
    ...(extra ? { extra } : {}),
  };
}
