// The antivirus functions in AWS: one ClamAV container image (built at deploy, not at synth), the scan
// step as its own branch of the workflow's Parallel, and freshclam on a schedule.
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { synthTemplate } from './synth.ts';

describe('antivirus functions', () => {
  const template = synthTemplate();
  const functions = template.findResources('AWS::Lambda::Function');
  const idOf = (name: string) =>
    Object.keys(functions).find((id) => id.startsWith(`Functions${name.replace('-', '')}`)) ?? '';

  it('runs the antivirus scan as an ARM64 container image with room for the ClamAV database', () => {
    const scanner = functions[idOf('scan-antivirus')];
    expect(scanner?.Properties).toMatchObject({
      PackageType: 'Image',
      Architectures: ['arm64'],
      ImageConfig: { Command: ['scan-antivirus.handler'] },
      EphemeralStorage: { Size: 2048 },
    });
    expect(scanner?.Properties.MemorySize).toBeGreaterThanOrEqual(3008);
    expect(scanner?.Properties.Code.ImageUri).toBeDefined();
  });

  it('runs the definitions refresh from the same image with its own command', () => {
    const updater = functions[idOf('av-definitions')];
    expect(updater?.Properties.ImageConfig).toEqual({ Command: ['av-definitions.handler'] });
    expect(JSON.stringify(updater?.Properties.Code.ImageUri)).toBe(
      JSON.stringify(functions[idOf('scan-antivirus')]?.Properties.Code.ImageUri),
    );
  });

  it('refreshes the definitions with freshclam on a schedule of a few hours', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(2 hours)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [idOf('av-definitions'), 'Arn'] } })],
    });
  });

  it('scans in its own branch, which turns a failed antivirus Lambda into AV_ERROR', () => {
    const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
    const definition = JSON.parse(machine?.Properties.DefinitionString) as {
      States: { Scan: { Branches: { StartAt: string; States: Record<string, Record<string, unknown>> }[] } };
    };
    const branch = definition.States.Scan.Branches.find((b) => b.StartAt === 'ScanAntivirus');
    expect(branch?.States.ScanAntivirus).toMatchObject({ Type: 'Task', TimeoutSeconds: 150 });
    expect(branch?.States.ScanAntivirusUnavailable).toMatchObject({
      Type: 'Pass',
      Parameters: { symbol: 'AV_ERROR' },
    });
    expect(JSON.stringify(machine?.Properties.DefinitionSubstitutions)).toContain(idOf('scan-antivirus'));
  });

  it('lets the updater write only the definitions and the scanner read them, never list the bucket', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    const statementsOf = (name: string) =>
      policies
        .filter((p) =>
          JSON.stringify(p.Properties.Roles).includes(`Functions${name.replace('-', '')}ServiceRole`),
        )
        .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string; Resource: unknown }[]);
    const writes = statementsOf('av-definitions').filter((s) => s.Action === 's3:PutObject');
    expect(JSON.stringify(writes)).toMatch(/"\/av-definitions\/\*"/);
    expect(JSON.stringify(writes)).not.toMatch(/inbound|verdicts|parsed|envelopes/);
    for (const name of ['av-definitions', 'scan-antivirus']) {
      expect(
        statementsOf(name).map((s) => s.Action),
        name,
      ).not.toContain('s3:ListBucket');
    }
  });
});
