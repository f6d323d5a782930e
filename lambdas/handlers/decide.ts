// Decide: flattens the scanner families' results, applies the policy and stores the full verdict as
// the message trace. The workflow state keeps only the summary the Route state branches on.

import { decide } from '../engine/decide.ts';
import type { ScanResult } from '../engine/types.ts';
import type { DecidedState, ParseSummary, WorkflowInput } from '../ports/index.ts';
import { type HandlerDeps, KEYS } from './deps.ts';
import type { VerdictTrace } from './support.ts';

/** Decide's input: the workflow input, Parse's summary and one results array per Parallel branch. */
export interface DecideState extends WorkflowInput {
  readonly parse?: ParseSummary;
  readonly scans: readonly (readonly ScanResult[])[];
}

export function createDecideHandler(deps: Pick<HandlerDeps, 'config' | 'store' | 'logger' | 'metrics'>) {
  return async (state: DecideState): Promise<DecidedState> => {
    const { scans, ...rest } = state;
    const verdict = decide(scans.flat(), deps.config.policy);
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
    deps.logger.info('decided', {
      messageId: state.messageId,
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
      },
    };
  };
}
