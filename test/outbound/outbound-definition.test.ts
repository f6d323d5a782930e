import { describe, expect, it } from 'vitest';
import { type AslDefinition, bindTasks } from '../../lambdas/local/local-workflow.ts';
import { OUTBOUND_FUNCTIONS, outboundDefinition } from '../../lib/workflow/outbound-definition.ts';

describe('outbound workflow definition', () => {
  const def = outboundDefinition();

  it('scans DLP, attachments, antivirus and outbound abuse in parallel before deciding', () => {
    expect(def.States.Scan.Branches.map((b) => b.StartAt)).toEqual([
      'ScanDlp',
      'ScanAttachments',
      'ScanAntivirus',
      'OutboundAbuse',
    ]);
    expect(def.States.Scan.Next).toBe('Decide');
  });

  it('turns a failed antivirus branch into AV_ERROR, with time for clamd to load its database', () => {
    const av = def.States.Scan.Branches.find((b) => b.StartAt === 'ScanAntivirus')!;
    const states = av.States as Record<string, { TimeoutSeconds?: number; Parameters?: { symbol?: string } }>;
    expect(states.ScanAntivirus?.TimeoutSeconds).toBe(150);
    expect(states.ScanAntivirusUnavailable?.Parameters?.symbol).toBe('AV_ERROR');
  });

  it('routes block to Block, quarantine to Quarantine and everything else to Send', () => {
    expect(def.States.Route.Choices.map((c) => [c.StringEquals, c.Next])).toEqual([
      ['reject', 'Block'],
      ['quarantine', 'Quarantine'],
    ]);
    expect(def.States.Route.Default).toBe('Send');
  });

  it('holds the message when any step fails: every Task catches into the fail-safe quarantine', () => {
    for (const name of ['Parse', 'Decide', 'Block', 'Quarantine', 'SendFailed'] as const)
      expect(def.States[name].Catch[0]?.Next, name).toBe('FailSafe');
    expect(def.States.Send.Catch[0]?.Next).toBe('SendFailed');
  });

  it('calls only the outbound functions', () => {
    const fns = new Set(bindTasks(def as unknown as AslDefinition, OUTBOUND_FUNCTIONS).map((b) => b.fn));
    expect([...fns].sort()).toEqual([...OUTBOUND_FUNCTIONS].sort());
  });
});
