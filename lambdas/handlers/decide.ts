// Decide: flattens the scanner families' results, applies the policy and stores the full verdict as
// the message trace. The workflow state keeps only the summary the Route state branches on.

import { decide } from '../engine/decide.ts';
import type { ScanResult, Verdict } from '../engine/types.ts';
import type { DecidedState, ParseSummary, WorkflowInput } from '../ports/index.ts';
import { type HandlerDeps, KEYS } from './deps.ts';
import type { VerdictTrace } from './support.ts';
import { authResultsOf } from './verdict-headers.ts';

/** Decide's input: the workflow input, Parse's summary and one results array per Parallel branch. */
export interface DecideState extends WorkflowInput {
  readonly parse?: ParseSummary;
  readonly scans: readonly (readonly ScanResult[])[];
}

type DecideDeps = Pick<HandlerDeps, 'config' | 'store' | 'logger' | 'metrics'>;

/** How a direction turns results into a verdict; inbound applies the policy's thresholds. */
export interface DecideOptions {
  readonly judge?: (results: readonly ScanResult[]) => Verdict;
  /** Logged with the decision when set. @default inbound (not logged) */
  readonly direction?: 'outbound';
}

export function createDecideHandler(deps: DecideDeps, options: DecideOptions = {}) {
  const judge = options.judge ?? ((results: readonly ScanResult[]) => decide(results, deps.config.policy));
  return async (state: DecideState): Promise<DecidedState> => {
    const { scans, ...rest } = state;
    const verdict = judge(scans.flat());
    const traceKey = KEYS.verdict(state.messageId);
    const trace: VerdictTrace = {
      messageId: state.messageId,
      receivedAt: state.receivedAt,
      envelope: state.envelope,
      ...(state.parse ? { parse: state.parse } : {}),
      ...(state.ses ? { ses: state.ses } : {}),
      verdict,
    };
    await deps.store.put(traceKey, JSON.stringify(trace), 'application/json');
    const { action, score, symbols } = verdict;
    const authResults = authResultsOf(deps.config, verdict);
    deps.logger.info('decided', {
      messageId: state.messageId,
      ...(options.direction ? { direction: options.direction } : {}),
      action,
      score,
      symbols,
      reason: verdict.reason.slice(0, 300),
    });
    deps.metrics.count('Messages', action);
    for (const result of scans.flat())
      if (result.findings.some((f) => f.symbol.endsWith('_ERROR')))
        deps.metrics.count('ScannerErrors', result.family);
    return {
      ...rest,
      verdict: {
        action: verdict.action,
        score: verdict.score,
        symbols: verdict.symbols,
        reason: verdict.reason.slice(0, 1000),
        traceKey,
        ...(authResults ? { authResults } : {}),
      },
    };
  };
}
