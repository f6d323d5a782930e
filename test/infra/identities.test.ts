import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { synthTemplate, testConfig } from './synth.ts';

describe('mail identities and DNS', () => {
  it('creates an Easy DKIM identity per protected domain', () => {
    const template = synthTemplate(
      testConfig({
        domains: [
          { name: 'example.com', route: { host: 'mail.example.com' } },
          { name: 'example.org', route: { host: 'mail.example.org' } },
        ],
      }),
    );
    const identities = Object.values(template.findResources('AWS::SES::EmailIdentity'));
    expect(identities.map((i) => i.Properties.EmailIdentity)).toEqual(['example.com', 'example.org']);
    for (const identity of identities) {
      expect(identity.Properties.DkimSigningAttributes).toEqual({ NextSigningKeyLength: 'RSA_2048_BIT' });
    }
  });

  it('outputs the MX and DKIM records', () => {
    const template = synthTemplate(testConfig({ region: 'eu-west-1' }));
    template.hasOutput('Domain1Mx', { Value: 'example.com MX 10 inbound-smtp.eu-west-1.amazonaws.com' });
    for (const k of [1, 2, 3]) {
      template.hasOutput(`Domain1Dkim${k}`, {
        Value: {
          'Fn::Join': [
            '',
            [
              { 'Fn::GetAtt': [Match.stringLikeRegexp('^IdentitiesIdentity1'), `DkimDNSTokenName${k}`] },
              ' CNAME ',
              { 'Fn::GetAtt': [Match.stringLikeRegexp('^IdentitiesIdentity1'), `DkimDNSTokenValue${k}`] },
            ],
          ],
        },
      });
    }
    template.resourceCountIs('AWS::Route53::RecordSet', 0);
  });

  const zoned = (extra: Record<string, unknown> = {}) =>
    testConfig({
      region: 'us-west-2',
      domains: [
        {
          name: 'mail.example.com',
          route: { host: 'mx.example.com' },
          hostedZoneId: 'Z0123456789ABC',
          ...extra,
        },
      ],
    });

  it('creates the DKIM records in a configured hosted zone but leaves the MX alone by default', () => {
    const template = synthTemplate(zoned());
    const cnames = Object.values(
      template.findResources('AWS::Route53::RecordSet', {
        Properties: { Type: 'CNAME', HostedZoneId: 'Z0123456789ABC' },
      }),
    );
    expect(cnames.map((c) => c.Properties.Name['Fn::GetAtt'][1]).sort()).toEqual([
      'DkimDNSTokenName1',
      'DkimDNSTokenName2',
      'DkimDNSTokenName3',
    ]);
    expect(
      Object.keys(
        template.findResources('AWS::Route53::RecordSet', {
          Properties: { Type: 'MX', Name: 'mail.example.com.' },
        }),
      ),
    ).toEqual([]);
    template.hasOutput('Domain1Mx', { Value: 'mail.example.com MX 10 inbound-smtp.us-west-2.amazonaws.com' });
  });

  it('creates a managed MX only after the identity is verified and the rule set is active', () => {
    const template = synthTemplate(zoned({ manageMx: true }));
    const mx = Object.values(
      template.findResources('AWS::Route53::RecordSet', {
        Properties: { Type: 'MX', Name: 'mail.example.com.' },
      }),
    );
    expect(mx).toHaveLength(1);
    expect(mx[0]?.Properties).toMatchObject({
      HostedZoneId: 'Z0123456789ABC',
      Name: 'mail.example.com.',
      ResourceRecords: ['10 inbound-smtp.us-west-2.amazonaws.com'],
    });
    const [verifiedId, verified] =
      Object.entries(
        template.findResources('Custom::SegReceivingSetup', { Properties: { Kind: 'VerifiedIdentity' } }),
      )[0] ?? [];
    expect(verified?.Properties.Identity).toBe('mail.example.com');
    const [activationId] = Object.keys(
      template.findResources('Custom::SegReceivingSetup', { Properties: { Kind: 'ActiveRuleSet' } }),
    );
    expect(mx[0]?.DependsOn).toEqual(expect.arrayContaining([verifiedId, activationId]));
    // The wait starts once the identity (and its DKIM records) exist.
    const [identityId] = Object.keys(template.findResources('AWS::SES::EmailIdentity'));
    expect(verified?.DependsOn).toContain(identityId);
  });

  it('lets the setup function read only the managed identities', () => {
    const template = synthTemplate(zoned({ manageMx: true }));
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'ses:GetEmailIdentity',
            Resource: Match.objectLike({
              'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(':identity/mail\\.example\\.com$')])],
            }),
          }),
        ]),
      },
    });
  });

  it('refuses a managed MX without a hosted zone, or without the stack activating the rule set', () => {
    expect(() =>
      testConfig({ domains: [{ name: 'example.com', route: { host: 'mx.example.com' }, manageMx: true }] }),
    ).toThrow(/manageMx needs hostedZoneId/);
    expect(() => synthTemplate(zoned({ manageMx: true }), { activateRuleSet: false })).toThrow(
      /manageMx needs the stack to activate its rule set/,
    );
  });

  it('reuses an existing SES identity: no identity resource and no DKIM records or outputs', () => {
    const template = synthTemplate(zoned({ identity: 'existing', manageMx: true }));
    template.resourceCountIs('AWS::SES::EmailIdentity', 0);
    expect(
      Object.keys(template.findResources('AWS::Route53::RecordSet', { Properties: { Type: 'CNAME' } })),
    ).toEqual([]);
    expect(Object.keys(template.findOutputs('*')).filter((k) => k.includes('Dkim'))).toEqual([]);
    template.hasOutput('Domain1Mx', Match.anyValue());
    // Its verification is still awaited before the MX moves.
    template.hasResourceProperties('Custom::SegReceivingSetup', {
      Kind: 'VerifiedIdentity',
      Identity: 'mail.example.com',
    });
  });

  it('gives each created identity a custom MAIL FROM domain that falls back to amazonses.com', () => {
    const template = synthTemplate(testConfig({ region: 'eu-west-1' }));
    template.hasResourceProperties('AWS::SES::EmailIdentity', {
      EmailIdentity: 'example.com',
      MailFromAttributes: { MailFromDomain: 'bounce.example.com', BehaviorOnMxFailure: 'USE_DEFAULT_VALUE' },
    });
    template.hasOutput('Domain1MailFromMx', {
      Value: 'bounce.example.com MX 10 feedback-smtp.eu-west-1.amazonses.com',
    });
    template.hasOutput('Domain1MailFromSpf', {
      Value: 'bounce.example.com TXT "v=spf1 include:amazonses.com ~all"',
    });
    template.resourceCountIs('AWS::Route53::RecordSet', 0);
  });

  it('creates the MAIL FROM MX and SPF records in a configured hosted zone', () => {
    const template = synthTemplate(zoned({ mailFromSubdomain: 'mf' }));
    template.hasResourceProperties('AWS::Route53::RecordSet', {
      HostedZoneId: 'Z0123456789ABC',
      Type: 'MX',
      Name: 'mf.mail.example.com.',
      ResourceRecords: ['10 feedback-smtp.us-west-2.amazonses.com'],
    });
    template.hasResourceProperties('AWS::Route53::RecordSet', {
      HostedZoneId: 'Z0123456789ABC',
      Type: 'TXT',
      Name: 'mf.mail.example.com.',
      ResourceRecords: ['"v=spf1 include:amazonses.com ~all"'],
    });
    template.hasOutput('Domain1MailFromMx', {
      Value: 'mf.mail.example.com MX 10 feedback-smtp.us-west-2.amazonses.com',
    });
  });

  it('keeps amazonses.com as MAIL FROM when mailFromSubdomain is false, and never touches an existing identity', () => {
    for (const extra of [{ mailFromSubdomain: false }, { identity: 'existing' }]) {
      const template = synthTemplate(zoned(extra));
      for (const identity of Object.values(template.findResources('AWS::SES::EmailIdentity'))) {
        expect(identity.Properties.MailFromAttributes).toBeUndefined();
      }
      expect(Object.keys(template.findOutputs('*')).filter((k) => k.includes('MailFrom'))).toEqual([]);
      expect(
        Object.keys(template.findResources('AWS::Route53::RecordSet', { Properties: { Type: 'TXT' } })),
      ).toEqual([]);
    }
  });

  it('refuses a MAIL FROM domain that is also a protected domain', () => {
    expect(() =>
      testConfig({
        domains: [
          { name: 'example.com', route: { host: 'mx.example.com' } },
          { name: 'bounce.example.com', route: { host: 'mx.example.com' } },
        ],
      }),
    ).toThrow(/MAIL FROM domain bounce\.example\.com is also a protected/);
  });

  it('outputs the names the CLI reads in --stack mode', () => {
    const outputs = synthTemplate().findOutputs('*');
    expect(Object.keys(outputs)).toEqual(
      expect.arrayContaining([
        'BucketName',
        'QuarantineTableName',
        'LedgerTableName',
        'StateMachineArn',
        'ReleaseFunctionName',
      ]),
    );
  });
});
