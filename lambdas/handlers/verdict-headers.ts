// The gateway's header values for a verdict: X-SEG-* and Authentication-Results from the verdict's
// AUTH findings (the engine formats those). Shared by decide, deliver and release.

import type { SegConfig } from '../config/schema.ts';
import { authResultsHeader } from '../engine/auth-results.ts';
import type { Action, Verdict } from '../engine/types.ts';
import type { VerdictHeaders } from './outgoing-message.ts';

/** Our authserv-id: the first protected domain, the name downstream filters know us by. */
export const authservId = (config: SegConfig): string => config.domains[0]?.name ?? 'localhost';

/**
 * The Authentication-Results value for a verdict's AUTH findings, undefined without any. Decide puts it
 * in the workflow state (one row per method, each value capped: bounded), so Deliver reads no trace.
 */
export function authResultsOf(config: SegConfig, verdict?: Pick<Verdict, 'findings'>): string | undefined {
  const authFindings = (verdict?.findings ?? []).filter((f) => f.family === 'AUTH');
  return authFindings.length ? authResultsHeader(authservId(config), authFindings) : undefined;
}

export function verdictHeaders(
  config: SegConfig,
  summary: {
    readonly action: Action;
    readonly score: number;
    readonly symbols: readonly string[];
    readonly authResults?: string;
  },
  extra?: VerdictHeaders['extra'],
): VerdictHeaders {
  return {
    action: summary.action,
    score: summary.score,
    symbols: summary.symbols,
    authservId: authservId(config),
    subjectTag: config.policy.subjectTag,
    ...(summary.authResults ? { authResults: summary.authResults } : {}),
    ...(extra ? { extra } : {}),
  };
}
