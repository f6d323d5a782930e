import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { WORKFLOW_FUNCTIONS } from '../../lib/workflow/inbound-definition.ts';
import { synthTemplate } from './synth.ts';

type State = {
  Type: string;
  Resource?: string;
  Catch?: { ErrorEquals: string[]; Next: string; ResultPath?: string }[];
  Branches?: unknown[];
  Next?: string;
};

describe('inbound state machine', () => {
  const template = synthTemplate();
  const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  const definition = JSON.parse(machine?.Properties.DefinitionString) as { States: Record<string, State> };

  it('runs an EXPRESS state machine with a parallel scan and a catch to the fail-safe', () => {
    expect(machine?.Properties.StateMachineType).toBe('EXPRESS');
    expect(definition.States.Scan?.Type).toBe('Parallel');
    expect(definition.States.Scan?.Branches).toHaveLength(5);
    for (const name of ['Parse', 'Scan', 'Decide', 'Quarantine']) {
      expect(
        definition.States[name]?.Catch?.some(
          (c) => c.ErrorEquals.includes('States.ALL') && c.Next === 'FailSafe',
        ),
      ).toBe(true);
    }
  });

  it('queues a still-unavailable downstream as Defer before the catch-all DeliveryFailed', () => {
    const catches = definition.States.Deliver?.Catch ?? [];
    const defer = catches.findIndex((c) => c.ErrorEquals.includes('TransientDeliveryError'));
    const all = catches.findIndex((c) => c.ErrorEquals.includes('States.ALL'));
    expect(defer).toBeGreaterThanOrEqual(0);
    expect(defer).toBeLessThan(all);
    expect(catches[defer]).toMatchObject({ Next: 'Defer', ResultPath: '$.deferral' });
    expect(catches[all]).toMatchObject({ Next: 'DeliveryFailed', ResultPath: '$.deliveryFailure' });
    // Defer is a Task on the Quarantine function, which records the DEFERRED item.
    expect(definition.States.Defer?.Type).toBe('Task');
    expect(JSON.stringify(definition.States.Defer?.Resource)).toBe(
      JSON.stringify(definition.States.Quarantine?.Resource),
    );
    expect(definition.States.Defer?.Catch?.some((c) => c.Next === 'FailSafe')).toBe(true);
  });

  it('uses only JSON-object payload templates, as the States Language requires', () => {
    const templates: unknown[] = [];
    const visit = (states: Record<string, Record<string, unknown>>) => {
      for (const state of Object.values(states)) {
        for (const field of ['Parameters', 'ResultSelector'])
          if (field in state) templates.push(state[field]);
        for (const branch of (state.Branches ?? []) as {
          States: Record<string, Record<string, unknown>>;
        }[]) {
          visit(branch.States);
        }
      }
    };
    visit(definition.States as unknown as Record<string, Record<string, unknown>>);
    expect(templates.length).toBeGreaterThan(0);
    for (const template of templates) {
      expect(
        typeof template === 'object' && template !== null && !Array.isArray(template),
        JSON.stringify(template),
      ).toBe(true);
    }
  });

  it('logs failed runs without execution data and traces with X-Ray', () => {
    expect(machine?.Properties.LoggingConfiguration).toMatchObject({
      Level: 'ERROR',
      IncludeExecutionData: false,
    });
    expect(machine?.Properties.TracingConfiguration).toEqual({ Enabled: true });
  });

  it('logs to a group under /aws/vendedlogs/states/, kept for a bounded time', () => {
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup')).filter((g) =>
      String(g.Properties.LogGroupName ?? '').startsWith('/aws/vendedlogs/states/'),
    );
    expect(groups).toHaveLength(1);
    expect(groups[0]?.Properties.RetentionInDays).toBeGreaterThan(0);
    const destination = JSON.stringify(machine?.Properties.LoggingConfiguration.Destinations);
    const [groupId] = Object.keys(template.findResources('AWS::Logs::LogGroup', groups[0]));
    expect(destination).toContain(groupId);
  });

  it('may invoke exactly the workflow functions', () => {
    const roleId = machine?.Properties.RoleArn['Fn::GetAtt'][0];
    const policies = Object.values(
      template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } }),
    );
    const invoke = policies
      .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: unknown; Resource: unknown }[])
      .filter((s) => JSON.stringify(s.Action).includes('lambda:InvokeFunction'));
    const resources = invoke.flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]));
    const targets = resources.map((r) => (r as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt']);
    // Deliver, Defer, DeliveryFailed, Quarantine and FailSafe share functions: one ARN per distinct function.
    expect(targets.every((t) => t && t[1] === 'Arn')).toBe(true);
    expect(new Set(targets.map((t) => t[0])).size).toBe(WORKFLOW_FUNCTIONS.length);
    expect(JSON.stringify(resources)).not.toMatch(/:\*/);
  });

  it('lets ingest and the reconciler start executions, and gives them the state machine ARN', () => {
    for (const name of ['ingest', 'reconcile']) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({
            SEG_STATE_MACHINE_ARN: { Ref: Match.stringLikeRegexp('^InboundStateMachine') },
          }),
        },
        Handler: 'index.handler',
        Role: { 'Fn::GetAtt': [Match.stringLikeRegexp(`^Functions${name}ServiceRole`), 'Arn'] },
      });
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: Match.stringLikeRegexp(`^Functions${name}ServiceRole`) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: 'states:StartExecution',
              Resource: { Ref: Match.stringLikeRegexp('^InboundStateMachine') },
            }),
          ]),
        },
      });
    }
  });
});
