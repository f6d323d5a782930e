// Regions where SES offers email receiving, and the synth-time check that refuses any other region.
// It does not look anything up at synth: the list is a constant so `cdk synth` stays offline.

/**
 * Regions with an SES email receiving endpoint (`inbound-smtp.<region>.amazonaws.com`), from the
 * "Email receiving endpoints" table of the AWS General Reference (SES endpoints and quotas).
 * SES started with us-east-1, us-west-2 and eu-west-1 and has added regions since; when AWS adds
 * one, add it here (a region missing from this list is refused, never silently deployed).
 */
export const SES_RECEIVING_REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-2',
  'ca-central-1',
  'eu-central-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-north-1',
  'eu-south-1',
  'ap-south-1',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
] as const;

export type SesReceivingRegion = (typeof SES_RECEIVING_REGIONS)[number];

/** The MX host for a receiving region. */
export const inboundSmtpHost = (region: SesReceivingRegion): string => `inbound-smtp.${region}.amazonaws.com`;

/** The MX host of a custom MAIL FROM domain: where receivers send SES's bounces and complaints. */
export const feedbackSmtpHost = (region: string): string => `feedback-smtp.${region}.amazonses.com`;

/** The SPF record of a custom MAIL FROM domain: SES's senders may use it. */
export const MAIL_FROM_SPF = 'v=spf1 include:amazonses.com ~all';

/** Thrown at synth when the configured region has no SES email receiving. */
export class UnsupportedRegionError extends Error {
  override readonly name = 'UnsupportedRegionError';
  constructor(readonly region: string) {
    super(
      `region ${region} does not offer SES email receiving, so seg cannot receive mail there. ` +
        `Set "region" in seg.config.json to one of: ${SES_RECEIVING_REGIONS.join(', ')}`,
    );
  }
}

/** Narrows `region` to a receiving region or throws UnsupportedRegionError. */
export function assertReceivingRegion(region: string): SesReceivingRegion {
  if ((SES_RECEIVING_REGIONS as readonly string[]).includes(region)) return region as SesReceivingRegion;
  throw new UnsupportedRegionError(region);
}
