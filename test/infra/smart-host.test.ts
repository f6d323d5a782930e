import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { synthTemplate, testConfig } from './synth.ts';

describe('smart host (outbound)', () => {
  const template = synthTemplate(
    testConfig({ outbound: { identities: ['example.com', 'news@example.org'] } }),
  );
  const resources = template.toJSON().Resources as Record<
    string,
    { Type: string; Properties: Record<string, unknown> }
  >;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

  it('receives submissions on a Mail Manager ingress point of type AUTH with TLS required and a stored password', () => {
    template.hasResourceProperties('AWS::SES::MailManagerIngressPoint', {
      Type: 'AUTH',
      TlsPolicy: 'REQUIRED',
      IngressPointConfiguration: { SecretArn: { Ref: Match.stringLikeRegexp('SmtpPassword') } },
    });
    template.hasResourceProperties('AWS::SES::MailManagerTrafficPolicy', {
      DefaultAction: 'DENY',
      PolicyStatements: [
        {
          Action: 'ALLOW',
          Conditions: [
            {
              TlsExpression: {
                Evaluate: { Attribute: 'TLS_PROTOCOL' },
                Operator: 'MINIMUM_TLS_VERSION',
                Value: 'TLS1_2',
              },
            },
          ],
        },
      ],
    });
  });

  it("writes each accepted message to the bucket's outbox/smtp/ prefix", () => {
    template.hasResourceProperties('AWS::SES::MailManagerRuleSet', {
      Rules: [{ Actions: [{ WriteToS3: Match.objectLike({ S3Prefix: 'outbox/smtp/' }) }] }],
    });
  });

  it('starts the outbound workflow from an S3 trigger on outbox/smtp/ objects', () => {
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: {
        LambdaFunctionConfigurations: [
          Match.objectLike({
            Events: ['s3:ObjectCreated:*'],
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'outbox/smtp/' }] } },
            LambdaFunctionArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('Functionsoutboxingest'), 'Arn'] },
          }),
        ],
      },
    });
    const [, ingest] = ofType('AWS::Lambda::Function').find(([id]) =>
      id.startsWith('Functionsoutboxingest'),
    )!;
    expect(JSON.stringify(ingest.Properties.Environment)).toContain('SEG_OUTBOUND_STATE_MACHINE_ARN');
  });

  it('lets the reconciler re-drive outbound submissions: it knows and may start the outbound workflow', () => {
    const [reconcileId, reconcile] = ofType('AWS::Lambda::Function').find(([id]) =>
      id.startsWith('Functionsreconcile'),
    )!;
    expect(JSON.stringify(reconcile.Properties.Environment)).toContain('SEG_OUTBOUND_STATE_MACHINE_ARN');
    const starts = ofType('AWS::IAM::Policy').filter(([id, p]) => {
      const doc = JSON.stringify(p.Properties.PolicyDocument);
      return id.startsWith(reconcileId.replace(/[0-9A-F]{8}$/, '')) && doc.includes('states:StartExecution');
    });
    expect(JSON.stringify(starts.map(([, p]) => p.Properties.PolicyDocument))).toMatch(/OutboundWorkflow/);
  });

  it('scans outbound attachments and malware with the inbound scanner functions, not copies', () => {
    const [, outbound] = ofType('AWS::StepFunctions::StateMachine').find(([id]) =>
      id.startsWith('OutboundWorkflow'),
    )!;
    const substitutions = outbound.Properties.DefinitionSubstitutions as Record<string, unknown>;
    expect(JSON.stringify(substitutions.ScanAttachmentsFunctionArn)).toMatch(
      /"Functionsscanattachments[0-9A-F]{8}"/,
    );
    expect(JSON.stringify(substitutions.ScanAntivirusFunctionArn)).toMatch(
      /"Functionsscanantivirus[0-9A-F]{8}"/,
    );
    const functions = ofType('AWS::Lambda::Function').map(([id]) => id);
    expect(functions.filter((id) => /scan-?attachments|scan-?antivirus/i.test(id))).toHaveLength(2);
    // The outbound machine may invoke them.
    const invoke = ofType('AWS::IAM::Policy')
      .filter(([id]) => id.startsWith('OutboundWorkflow'))
      .map(([, p]) => JSON.stringify(p.Properties.PolicyDocument))
      .join('');
    expect(invoke).toMatch(/Functionsscanattachments/);
    expect(invoke).toMatch(/Functionsscanantivirus/);
  });

  it('runs the outbound workflow as an EXPRESS state machine from the shared definition', () => {
    const machines = ofType('AWS::StepFunctions::StateMachine');
    const outbound = machines.find(([id]) => id.startsWith('OutboundWorkflow'));
    expect(outbound?.[1].Properties.StateMachineType).toBe('EXPRESS');
    expect(JSON.stringify(outbound?.[1].Properties.DefinitionString)).toContain('ScanDlp');
  });

  it('lets only send, block and release send through SES, as the configured identities and with the configuration set', () => {
    const sesStatements = ofType('AWS::IAM::Policy').flatMap(([id, p]) =>
      (
        (p.Properties.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] }).Statement ??
        []
      )
        .filter((s) => JSON.stringify(s.Action).includes('ses:Send'))
        .map((s) => ({ id, resources: JSON.stringify(s.Resource) })),
    );
    expect(sesStatements.map((s) => s.id.replace(/ServiceRoleDefaultPolicy.*$/, '')).sort()).toEqual([
      'Functionsblock',
      'Functionsrelease',
      'Functionssend',
    ]);
    for (const s of sesStatements) {
      expect(s.resources).toContain(':identity/example.com');
      expect(s.resources).toContain(':identity/news@example.org');
      expect(s.resources).toContain(':configuration-set/seg-outbound');
      expect(s.resources).not.toContain('"*"');
    }
  });

  it('sends bounces and complaints of the configuration set to an encrypted topic', () => {
    template.hasResourceProperties('AWS::SES::ConfigurationSet', {
      Name: 'seg-outbound',
      DeliveryOptions: { TlsPolicy: 'REQUIRE' },
      SuppressionOptions: { SuppressedReasons: ['BOUNCE', 'COMPLAINT'] },
    });
    template.hasResourceProperties('AWS::SES::ConfigurationSetEventDestination', {
      EventDestination: Match.objectLike({ MatchingEventTypes: ['bounce', 'complaint', 'reject'] }),
    });
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
  });

  it('refuses unsigned HTTPS submissions: the function URL requires AWS_IAM auth', () => {
    const urls = ofType('AWS::Lambda::Url');
    expect(urls.map(([, u]) => u.Properties.AuthType)).toEqual(['AWS_IAM']);
    expect(JSON.stringify(urls[0]?.[1].Properties.TargetFunctionArn)).toContain('Functionssubmit');
  });
});
