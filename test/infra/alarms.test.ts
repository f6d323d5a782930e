// The alarms on stuck mail and the optional notification topic, read from the synthesized template.

import { Match, type Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { FUNCTION_NAMES } from '../../lib/functions.ts';
import { synthTemplate, testConfig } from './synth.ts';

const alarmOn = (template: Template, metricName: string) =>
  Object.values(template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: metricName } }));

describe('alarms', () => {
  const template = synthTemplate();

  it('alarms when a failed ingest event waits in the on-failure queue', () => {
    const [alarm] = alarmOn(template, 'ApproximateNumberOfMessagesVisible');
    expect(alarm?.Properties).toMatchObject({
      Namespace: 'AWS/SQS',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    const queue = Object.keys(template.findResources('AWS::SQS::Queue'))[0];
    expect(JSON.stringify(alarm?.Properties.Dimensions)).toContain(queue);
  });

  it('alarms when a message could not be disposed (a failed or timed-out workflow execution)', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    const alarm = alarms.find((a) => JSON.stringify(a.Properties.Metrics ?? []).includes('ExecutionsFailed'));
    expect(alarm?.Properties).toMatchObject({ Threshold: 1, TreatMissingData: 'notBreaching' });
    const metrics = alarm?.Properties.Metrics as {
      MetricStat?: { Metric: Record<string, unknown>; Stat: string };
    }[];
    const stats = metrics.flatMap((m) => (m.MetricStat ? [m.MetricStat] : []));
    expect(stats.map((m) => m.Metric.MetricName).sort()).toEqual(['ExecutionsFailed', 'ExecutionsTimedOut']);
    const machine = Object.keys(template.findResources('AWS::StepFunctions::StateMachine'))[0];
    for (const stat of stats) {
      expect(stat).toMatchObject({ Stat: 'Sum', Metric: { Namespace: 'AWS/States' } });
      expect(JSON.stringify(stat.Metric.Dimensions)).toContain(machine);
    }
  });

  it('creates no alarm topic and no alarm action without notifications.email', () => {
    // The topics are SES's: outbound feedback (bounces and complaints) and inbound arrival notices.
    expect(Object.keys(template.findResources('AWS::SNS::Topic')).sort()).toEqual([
      expect.stringMatching(/^OutboundFeedback/),
      expect.stringMatching(/^ReceivingArrivals/),
    ]);
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm')))
      expect(alarm.Properties.AlarmActions).toBeUndefined();
  });

  it('mails both alarms through an encrypted topic when notifications.email is set', () => {
    const withEmail = synthTemplate(testConfig({ notifications: { email: 'ops@example.com' } }));
    withEmail.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
    withEmail.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    withEmail.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' } }),
        ]),
      },
    });
    const topic = Object.keys(withEmail.findResources('AWS::SNS::Topic'))[0];
    const alarms = Object.values(withEmail.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(2);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topic }]);
  });

  describe('with notifications.email', () => {
    const withEmail = synthTemplate(testConfig({ notifications: { email: 'ops@example.com' } }));
    const fromOurAlarms = {
      StringEquals: { 'aws:SourceAccount': '123456789012' },
      ArnLike: { 'aws:SourceArn': Match.anyValue() },
    };

    it("lets CloudWatch publish to the topic beside the TLS-only Deny, for this account's alarms only", () => {
      const [policy] = Object.values(withEmail.findResources('AWS::SNS::TopicPolicy'));
      const statements = policy?.Properties.PolicyDocument.Statement as Record<string, unknown>[];
      expect(statements).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      );
      const allow = statements.find((s) => s.Effect === 'Allow');
      expect(allow).toMatchObject({
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
      });
      const sourceArn = JSON.stringify((allow?.Condition as { ArnLike?: unknown } | undefined)?.ArnLike);
      expect(sourceArn).toContain(':cloudwatch:');
      expect(sourceArn).toContain(':alarm:*');
    });

    it("lets CloudWatch use the topic key only for this account's alarms", () => {
      withEmail.hasResourceProperties('AWS::KMS::Key', {
        KeyPolicy: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
              Condition: fromOurAlarms,
            }),
          ]),
        },
      });
    });
  });

  it('refuses a notifications.email that is not an address', () => {
    expect(() => testConfig({ notifications: { email: 'ops at example' } })).toThrow(/notifications\.email/);
  });
});

describe('function environment', () => {
  it('names the Powertools service and metrics namespace seg on every function', () => {
    const functions = Object.values(synthTemplate().findResources('AWS::Lambda::Function'));
    const ours = functions.filter((f) => f.Properties.Environment?.Variables?.SEG_BUCKET);
    expect(ours).toHaveLength(FUNCTION_NAMES.length);
    for (const fn of ours)
      expect(fn.Properties.Environment.Variables).toMatchObject({
        POWERTOOLS_SERVICE_NAME: 'seg',
        POWERTOOLS_METRICS_NAMESPACE: 'seg',
      });
  });
});
