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

  it('creates DNS records when a hosted zone is configured', () => {
    const template = synthTemplate(
      testConfig({
        region: 'us-west-2',
        domains: [
          { name: 'mail.example.com', route: { host: 'mx.example.com' }, hostedZoneId: 'Z0123456789ABC' },
        ],
      }),
    );
    template.hasResourceProperties('AWS::Route53::RecordSet', {
      HostedZoneId: 'Z0123456789ABC',
      Name: 'mail.example.com.',
      Type: 'MX',
      ResourceRecords: ['10 inbound-smtp.us-west-2.amazonaws.com'],
    });
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
