// The scanner Lambdas (inbound auth, content, lists, attachments, antivirus; outbound dlp) share this
// handler: load the raw message (one S3 GET), parse it again when a scanner of the group reads the
// parsed message, run the group's scanners with their timeouts, return the results. Scanners never
// throw. Re-parsing is cheaper than storing a parsed copy: an S3 PUT costs as much as about 12 GETs, and
// parsing a typical message takes milliseconds (docs/cost.md).

import { parseMessage } from '../engine/parse.ts';
import { runScanners } from '../engine/run-scanners.ts';
import { needsParse } from '../engine/scanner.ts';
import {
  OUTBOUND_SCANNER_GROUPS,
  type OutboundScannerGroup,
  SCANNER_GROUPS,
  type ScannerGroup,
} from '../engine/scanners/index.ts';
import type { RawScanInput, ScanResult } from '../engine/types.ts';
import type { ParseSummary, WorkflowInput } from '../ports/index.ts';
import type { HandlerDeps } from './deps.ts';
import { loadRequired } from './support.ts';

/** The Scan state's input: the workflow input with Parse's summary at `$.parse`. */
export interface ScanState extends WorkflowInput {
  readonly parse: ParseSummary;
}

export function createScanHandler(
  group: ScannerGroup | OutboundScannerGroup,
  deps: Pick<HandlerDeps, 'config' | 'store' | 'resolver' | 'feeds' | 'antivirus'>,
) {
  return async (state: ScanState): Promise<ScanResult[]> => {
    const scanners =
      group in SCANNER_GROUPS
        ? SCANNER_GROUPS[group as ScannerGroup]
        : OUTBOUND_SCANNER_GROUPS[group as OutboundScannerGroup];
    const raw = await loadRequired(deps.store, state.key);
    const input: RawScanInput = {
      raw,
      envelope: {
        ...state.envelope,
        ...(state.parse.remoteIp ? { remoteIp: state.parse.remoteIp } : {}),
        ...(state.parse.helo ? { helo: state.parse.helo } : {}),
      },
      ...(state.ses ? { ses: state.ses } : {}),
    };
    // The same parse with the same limits as the Parse step, so every step sees the same message.
    const parsed = needsParse(scanners) ? await parseMessage(raw, deps.config.limits) : undefined;
    return runScanners(scanners, parsed ? { ...input, parsed } : input, {
      policy: deps.config.policy,
      dlp: deps.config.dlp,
      outbound: deps.config.outbound,
      lists: deps.config.lists,
      attachments: deps.config.attachments,
      limits: deps.config.limits,
      protectedDomains: deps.config.domains.map((d) => d.name.toLowerCase()),
      resolver: deps.resolver,
      detection: deps.config.detection,
      ...(deps.feeds ? { feeds: deps.feeds } : {}),
      ...(deps.antivirus ? { antivirus: deps.antivirus } : {}),
    });
  };
}

/**
 * The antivirus step: the antivirus group with its engine required. A missing engine is a wiring or
 * start-up fault, so the step fails and the workflow's branch turns that into AV_ERROR (fail closed).
 */
export function createScanAntivirusHandler(
  deps: Pick<HandlerDeps, 'config' | 'store' | 'resolver' | 'antivirus'>,
) {
  const scan = createScanHandler('antivirus', deps);
  return async (state: ScanState): Promise<ScanResult[]> => {
    if (!deps.antivirus) throw new Error('no antivirus engine is configured for this gateway');
    return scan(state);
  };
}
