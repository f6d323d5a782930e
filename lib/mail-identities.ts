// Per protected domain: an SES domain identity with Easy DKIM (or the one the account already has),
// stack outputs that spell out the DNS records to publish (MX and, for a created identity, three DKIM
// CNAMEs, plus the MX and SPF of its custom MAIL FROM domain), and, when the domain names a Route 53
// hosted zone, those DKIM and MAIL FROM records (aws-cdk-lib writes them into the zone). The MX record is
// created only when asked (`manageMx`), and only after the rule set is active and the identity is
// verified: changing the MX moves the domain's mail, so it is the last step of a cut-over.

import { CfnOutput, Stack } from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as ses from 'aws-cdk-lib/aws-ses';
import { Construct, type IDependable } from 'constructs';
import type { DomainConfig } from '../lambdas/config/schema.ts';
import type { ReceivingSetup } from './receiving-setup.ts';
import { feedbackSmtpHost, inboundSmtpHost, MAIL_FROM_SPF, type SesReceivingRegion } from './ses-regions.ts';

export interface MailIdentitiesProps {
  readonly domains: readonly DomainConfig[];
  /** The receiving region: the MX record points at its inbound SMTP endpoint. */
  readonly region: SesReceivingRegion;
  /** Waits for verification before a managed MX record; needed when a domain sets `manageMx`. */
  readonly setup?: ReceivingSetup;
  /** What a managed MX record waits for besides verification: the rule set's activation. */
  readonly activation?: IDependable;
  /**
   * Preference of the MX record.
   * @default 10
   */
  readonly mxPriority?: number;
}

/** SES identities and DNS records for the protected domains. */
export class MailIdentities extends Construct {
  /** The identities this stack created (domains with `identity: 'existing'` have none). */
  readonly identities: readonly ses.EmailIdentity[];

  constructor(scope: Construct, id: string, props: MailIdentitiesProps) {
    super(scope, id);
    const priority = props.mxPriority ?? 10;
    const mxHost = inboundSmtpHost(props.region);
    const identities: ses.EmailIdentity[] = [];

    props.domains.forEach((domain, i) => {
      const n = i + 1;
      // The zone name doubles as the identity's domain: the domain may be the zone apex or a name in it.
      const zone = domain.hostedZoneId
        ? route53.PublicHostedZone.fromPublicHostedZoneAttributes(this, `Zone${n}`, {
            hostedZoneId: domain.hostedZoneId,
            zoneName: domain.name,
          })
        : undefined;
      // An identity that already exists in the region (the organisation sends through SES) cannot be
      // created again: CloudFormation would fail. It is used as it is, with its own DKIM records.
      // A custom MAIL FROM makes SPF align with the From domain (DMARC passes on SPF too, not only DKIM);
      // until its MX is published SES falls back to amazonses.com rather than refusing to send.
      const mailFrom =
        domain.identity === 'create' && domain.mailFromSubdomain
          ? `${domain.mailFromSubdomain}.${domain.name}`
          : undefined;
      const identity =
        domain.identity === 'create'
          ? new ses.EmailIdentity(this, `Identity${n}`, {
              identity: zone ? ses.Identity.publicHostedZone(zone) : ses.Identity.domain(domain.name),
              dkimIdentity: ses.DkimIdentity.easyDkim(ses.EasyDkimSigningKeyLength.RSA_2048_BIT),
              ...(mailFrom
                ? {
                    mailFromDomain: mailFrom,
                    mailFromBehaviorOnMxFailure: ses.MailFromBehaviorOnMxFailure.USE_DEFAULT_VALUE,
                  }
                : {}),
            })
          : undefined;
      if (identity) identities.push(identity);

      if (zone && domain.manageMx) {
        if (!props.setup || !props.activation) {
          throw new Error(
            `domain ${domain.name}: manageMx needs the stack to activate its rule set (deploy without -c activateRuleSet=false)`,
          );
        }
        const verified = props.setup.verified(domain.name, n, identity ? [identity] : []);
        const mx = new route53.MxRecord(this, `Mx${n}`, {
          zone,
          recordName: `${domain.name}.`,
          values: [{ priority, hostName: mxHost }],
        });
        mx.node.addDependency(verified, props.activation);
      }

      const mxState =
        zone && domain.manageMx ? ' (created in Route 53 after verification and activation)' : '';
      new CfnOutput(this, `Domain${n}Mx`, {
        key: `Domain${n}Mx`,
        description: `MX record for ${domain.name}${mxState}; publish it last (docs/deploy.md, "Cut-over")`,
        value: `${domain.name} MX ${priority} ${mxHost}`,
      });
      if (!identity) return;
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
      if (!mailFrom) return;
      const made = zone ? ' (created in Route 53)' : '';
      new CfnOutput(this, `Domain${n}MailFromMx`, {
        key: `Domain${n}MailFromMx`,
        description: `MX record of the MAIL FROM domain of ${domain.name}${made}`,
        value: `${mailFrom} MX 10 ${feedbackSmtpHost(Stack.of(this).region)}`,
      });
      new CfnOutput(this, `Domain${n}MailFromSpf`, {
        key: `Domain${n}MailFromSpf`,
        description: `SPF record of the MAIL FROM domain of ${domain.name}${made}`,
        value: `${mailFrom} TXT "${MAIL_FROM_SPF}"`,
      });
    });
    this.identities = identities;
  }
}
