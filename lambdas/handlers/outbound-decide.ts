// Outbound Decide: the outbound policy (config `outbound.actions`) over the Scan branches' results,
// through the same Decide handler (trace stored, summary returned for the Route state). Evidence is
// redacted by the DLP scanners, so the logged reason carries no secret.

import { decideOutbound } from '../engine/decide-outbound.ts';
import { createDecideHandler } from './decide.ts';
import type { HandlerDeps } from './deps.ts';

export function createOutboundDecideHandler(
  deps: Pick<HandlerDeps, 'config' | 'store' | 'logger' | 'metrics'>,
) {
  return createDecideHandler(deps, {
    judge: (results) => decideOutbound(results, deps.config.outbound, deps.config.policy),
    direction: 'outbound',
  });
}
