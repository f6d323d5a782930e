// Outbound abuse: counts each sender's messages and recipients in a fixed window (config
// `outbound.abuse`) and flags a sender above either limit, as a compromised account sending spam
// would be. Counted once per message id, so a retried step does not count twice. Returns the same
// shape as a scanner Lambda, so it is one more branch of the Scan Parallel.

import type { ScanResult } from '../engine/types.ts';
import type { WorkflowInput } from '../ports/index.ts';
import type { OutboundHandlerDeps } from './deps.ts';

export function createOutboundAbuseHandler(deps: Pick<OutboundHandlerDeps, 'config' | 'counter' | 'clock'>) {
  return async (state: WorkflowInput): Promise<ScanResult[]> => {
    const started = performance.now();
    const { windowMinutes, maxMessages, maxRecipients } = deps.config.outbound.abuse;
    const windowMs = windowMinutes * 60_000;
    const now = deps.clock().getTime();
    const windowStart = new Date(now - (now % windowMs));
    const sender = (state.submitter ?? state.envelope.mailFrom).toLowerCase();
    const totals = await deps.counter.add(
      sender,
      windowStart,
      state.messageId,
      state.envelope.recipients.length,
    );
    const over: string[] = [];
    if (totals.messages > maxMessages) over.push(`${totals.messages} messages > ${maxMessages}`);
    if (totals.recipients > maxRecipients) over.push(`${totals.recipients} recipients > ${maxRecipients}`);
    const findings = over.length
      ? [
          {
            symbol: 'OUTBOUND_VOLUME_SPIKE' as const,
            evidence: `${sender}: ${over.join(', ')} in ${windowMinutes} min`.slice(0, 300),
          },
        ]
      : [];
    return [
      {
        scanner: 'outbound-abuse',
        family: 'OUTBOUND',
        findings,
        ms: Math.round((performance.now() - started) * 100) / 100,
      },
    ];
  };
}
