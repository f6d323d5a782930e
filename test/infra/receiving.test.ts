import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { synthTemplate, testConfig } from './synth.ts';

const twoDomains = testConfig({
  domains: [
    { name: 'example.com', route: { host: 'mail.example.com' } },
    { name: 'example.org', route: { host: 'mx.example.org', port: 465 }, recipients: ['ceo@example.org'] },
  ],
});

describe('SES receiving', () => {
  const template = synthTemplate(twoDomains);
  const rules = Object.values(template.findResources('AWS::SES::ReceiptRule'));

  it('puts every protected recipient in one receipt rule of one rule set', () => {
    template.resourceCountIs('AWS::SES::ReceiptRuleSet', 1);
    expect(rules.map((r) => r.Properties.Rule.Recipients)).toEqual([['example.com', 'ceo@example.org']]);
  });

  it("refuses more recipient conditions than SES's 100 per rule", () => {
    const many = Array.from({ length: 101 }, (_, i) => `user${i}@example.org`);
    expect(() =>
      testConfig({ domains: [{ name: 'example.org', route: { host: 'mx.example.org' }, recipients: many }] }),
    ).toThrow(/101 recipient conditions .* 100 per receipt rule/);
    const hundred = many.slice(0, 100);
    expect(() =>
      testConfig({
        domains: [{ name: 'example.org', route: { host: 'mx.example.org' }, recipients: hundred }],
      }),
    ).not.toThrow();
  });

  it('requires TLS and scanning on every receipt rule', () => {
    for (const rule of rules) {
      expect(rule.Properties.Rule).toMatchObject({ TlsPolicy: 'Require', ScanEnabled: true, Enabled: true });
    }
  });

  it('stores the message in S3 before invoking ingest', () => {
    for (const rule of rules) {
      const actions = rule.Properties.Rule.Actions;
      expect(actions).toHaveLength(2);
      expect(actions[0].S3Action).toMatchObject({ ObjectKeyPrefix: 'inbound/' });
      expect(actions[1].LambdaAction).toMatchObject({ InvocationType: 'Event' });
      expect(JSON.stringify(actions[1].LambdaAction.FunctionArn)).toMatch(/Functionsingest/);
    }
  });

  it('has the S3 action notify an encrypted arrival topic that only this rule set may publish to', () => {
    const [topicId] = Object.keys(template.findResources('AWS::SNS::Topic', {})).filter((id) =>
      id.startsWith('ReceivingArrivals'),
    );
    for (const rule of rules)
      expect(rule.Properties.Rule.Actions[0].S3Action.TopicArn).toEqual({ Ref: topicId });
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ReceivingArrivalsKey'), 'Arn'] },
    });
    const topicPolicy = Object.values(template.findResources('AWS::SNS::TopicPolicy')).find((p) =>
      JSON.stringify(p.Properties.Topics).includes(topicId ?? '?'),
    );
    const publish = (
      (topicPolicy?.Properties.PolicyDocument.Statement ?? []) as Record<string, unknown>[]
    ).find((s) => s.Sid === 'AllowSesToNotifyArrivals');
    expect(publish).toMatchObject({
      Effect: 'Allow',
      Principal: { Service: 'ses.amazonaws.com' },
      Action: 'sns:Publish',
      Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
    });
    expect(JSON.stringify(publish)).toMatch(/receipt-rule-set\/.*:receipt-rule\/\*/);
    // SES checks that it may publish when the rule is created.
    const [policyId] = Object.keys(template.findResources('AWS::SNS::TopicPolicy')).filter((id) =>
      id.startsWith('ReceivingArrivals'),
    );
    for (const rule of rules) expect(rule.DependsOn).toContain(policyId);
  });

  it('queues the arrival notices raw, 15 minutes late, for the reconciler alone to consume', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'sqs',
      RawMessageDelivery: true,
      Endpoint: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ReceivingArrivalQueue'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      DelaySeconds: 900,
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 86_400,
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: Match.absent(),
      Environment: {
        Variables: Match.objectLike({
          SEG_ARRIVAL_QUEUE_URL: { Ref: Match.stringLikeRegexp('^ReceivingArrivalQueue') },
        }),
      },
    });
    const consumers = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties.PolicyDocument).match(
        /sqs:ReceiveMessage[^\]]*\][^}]*ReceivingArrivalQueue/,
      ),
    );
    expect(consumers.map((p) => JSON.stringify(p.Properties.Roles))).toEqual([
      expect.stringMatching(/Functionsreconcile/),
    ]);
  });

  it('lets SES invoke ingest only from this account and rule set', () => {
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'ses.amazonaws.com',
      SourceAccount: '123456789012',
      SourceArn: {
        'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(':receipt-rule-set/$'), ':receipt-rule/*'])],
      },
      FunctionName: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Functionsingest'), 'Arn'] },
    });
  });

  it('gives SES exactly one invoke permission, on ingest', () => {
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission')).filter(
      (p) => p.Properties.Principal === 'ses.amazonaws.com',
    );
    expect(permissions).toHaveLength(1);
  });

  it('grants SES PutObject only under inbound/, for this account and rule set', () => {
    const policies = Object.values(template.findResources('AWS::S3::BucketPolicy'));
    const sesStatements = policies
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Record<string, unknown>[])
      .filter((s) => JSON.stringify(s.Principal ?? '').includes('ses.amazonaws.com'));
    expect(sesStatements).toHaveLength(1);
    const [statement] = sesStatements as [
      {
        Effect: string;
        Action: string;
        Resource: unknown;
        Condition: { StringEquals: unknown; ArnLike: Record<string, unknown> };
      },
    ];
    expect(statement.Effect).toBe('Allow');
    expect(statement.Action).toBe('s3:PutObject');
    expect(JSON.stringify(statement.Resource)).toMatch(/\/inbound\/\*"/);
    expect(statement.Condition.StringEquals).toEqual({ 'aws:SourceAccount': '123456789012' });
    expect(JSON.stringify(statement.Condition.ArnLike['aws:SourceArn'])).toMatch(
      /receipt-rule-set\/.*ReceivingRuleSet.*:receipt-rule\/\*/,
    );
  });

  it('creates each rule after the bucket policy that lets SES write', () => {
    const [policyId] = Object.keys(
      template.findResources('AWS::S3::BucketPolicy', {
        Properties: { Bucket: { Ref: Match.stringLikeRegexp('^MessagesBucket') } },
      }),
    );
    for (const rule of rules) expect(rule.DependsOn).toContain(policyId);
  });

  it('activates the rule set after its rule, refusing to replace another active set by default', () => {
    const activations = Object.entries(
      template.findResources('Custom::SegReceivingSetup', { Properties: { Kind: 'ActiveRuleSet' } }),
    );
    expect(activations).toHaveLength(1);
    const [, activation] = activations[0] ?? [];
    expect(activation?.Properties).toMatchObject({
      RuleSetName: { Ref: expect.stringMatching(/^ReceivingRuleSet/) },
      ReplaceActive: 'false',
    });
    const [ruleId] = Object.keys(template.findResources('AWS::SES::ReceiptRule'));
    expect(activation?.DependsOn).toContain(ruleId);
  });

  it('replaces another active rule set only when the config says so', () => {
    const replacing = synthTemplate(testConfig({ receiving: { replaceActiveRuleSet: true } }));
    replacing.hasResourceProperties('Custom::SegReceivingSetup', {
      Kind: 'ActiveRuleSet',
      ReplaceActive: 'true',
    });
    const byContext = synthTemplate(testConfig(), { replaceActiveRuleSet: true });
    byContext.hasResourceProperties('Custom::SegReceivingSetup', {
      Kind: 'ActiveRuleSet',
      ReplaceActive: 'true',
    });
  });

  it('lets the setup function read and set the active rule set, and keeps its logs for a bounded time', () => {
    const [setupFn] = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([id]) =>
      id.startsWith('ReceivingSetupFunction'),
    );
    expect(setupFn).toBeDefined();
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^ReceivingSetupFunctionServiceRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['ses:DescribeActiveReceiptRuleSet', 'ses:SetActiveReceiptRuleSet'],
            Resource: '*',
          }),
        ]),
      },
    });
    const logGroupId = setupFn?.[1].Properties.LoggingConfig.LogGroup.Ref as string;
    expect(template.toJSON().Resources[logGroupId].Properties.RetentionInDays).toBeGreaterThan(0);
    template.resourceCountIs('Custom::AWS', 0);
  });

  it('does not activate the rule set when told not to', () => {
    const quiet = synthTemplate(twoDomains, { activateRuleSet: false });
    quiet.resourceCountIs('Custom::SegReceivingSetup', 0);
  });
});
