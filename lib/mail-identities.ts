// Per protected domain: an SES domain identity with Easy DKIM, stack outputs that spell out the
// exact DNS records to publish (MX and three DKIM CNAMEs), and, when the domain names a Route 53
// hosted zone, those records themselves. It does not touch zones it was not given.

import { CfnOutput } from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as ses from 'aws-cdk-lib/aws-ses';
import { Construct } from 'constructs';
import type { DomainConfig } from '../lambdas/config/schema.ts';
import { inboundSmtpHost, type SesReceivingRegion } from './ses-regions.ts';

export interface MailIdentitiesProps {
  readonly domains: readonly DomainConfig[];
  /** The receiving region: the MX record points at its inbound SMTP endpoint. */
  readonly region: SesReceivingRegion;
  /**
   * Preference of the MX record.
   * @default 10
   */
  readonly mxPriority?: number;
}

/** SES identities and DNS records for the protected domains. */
export class MailIdentities extends Construct {
  readonly identities: readonly ses.EmailIdentity[];

  constructor(scope: Construct, id: string, props: MailIdentitiesProps) {
    super(scope, id);
    const priority = props.mxPriority ?? 10;
    const mxHost = inboundSmtpHost(props.region);

    this.identities = props.domains.map((domain, i) => {
      const n = i + 1;
      // The zone name doubles as the identity's domain: the domain may be the zone apex or a name in it.
      const zone = domain.hostedZoneId
        ? route53.PublicHostedZone.fromPublicHostedZoneAttributes(this, `Zone${n}`, {
            hostedZoneId: domain.hostedZoneId,
            zoneName: domain.name,
          })
        : undefined;
      const identity = new ses.EmailIdentity(this, `Identity${n}`, {
        identity: zone ? ses.Identity.publicHostedZone(zone) : ses.Identity.domain(domain.name),
        dkimIdentity: ses.DkimIdentity.easyDkim(ses.EasyDkimSigningKeyLength.RSA_2048_BIT),
      });
      if (zone) {
        new route53.MxRecord(this, `Mx${n}`, {
          zone,
          recordName: `${domain.name}.`,
          values: [{ priority, hostName: mxHost }],
        });
      }

      new CfnOutput(this, `Domain${n}Mx`, {
        key: `Domain${n}Mx`,
        description: `MX record for ${domain.name}${zone ? ' (created in Route 53)' : ''}`,
        value: `${domain.name} MX ${priority} ${mxHost}`,
      });
      const dkim = [
        [identity.dkimDnsTokenName1, identity.dkimDnsTokenValue1],
        [identity.dkimDnsTokenName2, identity.dkimDnsTokenValue2],
        [identity.dkimDnsTokenName3, identity.dkimDnsTokenValue3],
      ] as const;
      dkim.forEach(([name, value], k) => {
        new CfnOutput(this, `Domain${n}Dkim${k + 1}`, {
          key: `Domain${n}Dkim${k + 1}`,
          description: `DKIM CNAME ${k + 1} of 3 for ${domain.name}${zone ? ' (created in Route 53)' : ''}`,
          value: `${name} CNAME ${value}`,
        });
      });
      return identity;
    });
  }
}
