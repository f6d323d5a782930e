// Outbound Decide: the outbound policy (config `outbound.actions`) over the Scan branches' results,
// the full verdict stored as the message trace, the summary returned for the Route state.

import { decideOutbound } from '../engine/decide-outbound.ts';
import type { DecidedState } from '../ports/index.ts';
import type { DecideState } from './decide.ts';
import { type HandlerDeps, KEYS } from './deps.ts';
import type { VerdictTrace } from './support.ts';

export function createOutboundDecideHandler(
  deps: Pick<HandlerDeps, 'config' | 'store' | 'logger' | 'metrics'>,
) {
  return async (state: DecideState): Promise<DecidedState> => {
    const { scans, ...rest } = state;
    const verdict = decideOutbound(scans.flat(), deps.config.outbound, deps.config.policy);
    const traceKey = KEYS.verdict(state.messageId);
    const trace: VerdictTrace = {
      messageId: state.messageId,
      receivedAt: state.receivedAt,
      envelope: state.envelope,
      ...(state.parse ? { parse: state.parse } : {}),
      verdict,
    };
    await deps.store.put(traceKey, JSON.stringify(trace), 'application/json');
    // Evidence is redacted by the scanners, so the reason may be logged.
    deps.logger.info('decided', {
      messageId: state.messageId,
      direction: 'outbound',
      action: verdict.action,
      score: verdict.score,
      symbols: verdict.symbols,
      reason: verdict.reason.slice(0, 300),
    });
    deps.metrics.count('Messages', verdict.action);
    for (const result of scans.flat())
      if (result.findings.some((f) => f.symbol.endsWith('_ERROR')))
        deps.metrics.count('ScannerErrors', result.family);
    return {
      ...rest,
      verdict: {
        action: verdict.action,
        score: verdict.score,
        symbols: verdict.symbols,
        reason: verdict.reason,
        traceKey,
      },
    };
  };
}
