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

  it('creates one receipt rule per configured domain in one rule set', () => {
    template.resourceCountIs('AWS::SES::ReceiptRuleSet', 1);
    expect(rules.map((r) => r.Properties.Rule.Recipients)).toEqual([['example.com'], ['ceo@example.org']]);
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

  it('activates the rule set with a custom resource allowed only SetActiveReceiptRuleSet', () => {
    const [activation] = Object.values(template.findResources('Custom::AWS'));
    expect(activation).toBeDefined();
    const create = JSON.stringify(activation?.Properties.Create);
    expect(create).toMatch(/setActiveReceiptRuleSet/);
    expect(create).toMatch(/RuleSetName/);
    const del = JSON.stringify(activation?.Properties.Delete);
    expect(del).toMatch(/setActiveReceiptRuleSet/);
    expect(del).not.toMatch(/RuleSetName/);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [{ Action: 'ses:SetActiveReceiptRuleSet', Effect: 'Allow', Resource: '*' }],
      },
    });
  });

  it('does not activate the rule set when told not to', () => {
    const quiet = synthTemplate(twoDomains, { activateRuleSet: false });
    quiet.resourceCountIs('Custom::AWS', 0);
  });
});
