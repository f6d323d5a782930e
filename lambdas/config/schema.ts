// The one configuration file, seg.config.json, as a zod schema. The CDK app and the local runtime
// both load it through loadConfig(); the JSON Schema (seg.config.schema.json) is generated from it.

import { z } from 'zod';
import { FAMILIES, SYMBOLS } from '../engine/symbols.ts';

const domainName = z
  .string()
  .regex(
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
    'must be a lowercase domain name',
  );
const address = z.string().regex(/^[^\s@]+@[^\s@]+$/, 'must be an email address');
/** An allow/block list entry: a full address, a domain, or `*.domain` for the domain and its subdomains. */
const listEntry = z
  .string()
  .regex(/^([^\s@]+@[^\s@]+|(\*\.)?[a-z0-9.-]+\.[a-z]{2,63})$/i, 'must be an address, a domain or *.domain');

export const SmtpRouteSchema = z
  .object({
    host: z.string().min(1).describe("The organization's mail server for this domain"),
    port: z
      .number()
      .int()
      .min(1)
      .max(65535)
      .default(587)
      .describe('587 (STARTTLS), 465 (implicit TLS) or 25 (VPC only)'),
    tls: z
      .enum(['starttls', 'implicit'])
      .optional()
      .describe('Defaults to implicit on 465 and starttls otherwise; TLS is always required'),
    authSecretName: z
      .string()
      .optional()
      .describe('Secrets Manager secret holding {"username","password"} for SMTP AUTH'),
  })
  .strict();

export const DomainSchema = z
  .object({
    name: domainName,
    route: SmtpRouteSchema,
    recipients: z
      .array(address)
      .optional()
      .describe('When set, only these recipients are accepted for the domain; otherwise any local part'),
    hostedZoneId: z
      .string()
      .optional()
      .describe('Route 53 hosted zone: the stack then creates the DKIM records (and the MX with manageMx)'),
    identity: z
      .enum(['create', 'existing'])
      .default('create')
      .describe(
        "'create' makes an SES domain identity with Easy DKIM; 'existing' uses the one the account already has in the region (CloudFormation cannot create it twice)",
      ),
    mailFromSubdomain: z
      .union([
        z
          .string()
          .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be one lowercase DNS label, e.g. bounce'),
        z.literal(false),
      ])
      .default('bounce')
      .describe(
        "Custom MAIL FROM domain <label>.<domain> for mail seg sends (SPF aligns with the From domain); false keeps SES's amazonses.com. Only applied to identities the stack creates",
      ),
    manageMx: z
      .boolean()
      .default(false)
      .describe(
        'Create the MX record in hostedZoneId, after the rule set is active and the identity verified. Off by default: changing the MX moves live mail (docs/deploy.md, "Cut-over")',
      ),
  })
  .strict();

/** SES receipt limits (SES quotas): recipient conditions per rule, rules per rule set. */
export const SES_RECEIPT_LIMITS = { recipientsPerRule: 100, rulesPerSet: 200 } as const;

/** The recipient conditions of the one receipt rule: each domain, or its listed addresses. */
export function ruleRecipients(
  domains: readonly { name: string; recipients?: readonly string[] | undefined }[],
) {
  return domains.flatMap((d) => (d.recipients ? [...d.recipients] : [d.name]));
}

const symbolName = z.enum(Object.keys(SYMBOLS) as [keyof typeof SYMBOLS, ...(keyof typeof SYMBOLS)[]]);

export const PolicySchema = z
  .object({
    version: z
      .string()
      .default('1')
      .describe('Recorded in every verdict, so a verdict names the policy that made it'),
    thresholds: z
      .object({
        tag: z.number().default(5),
        quarantine: z.number().default(10),
        reject: z.number().default(25),
      })
      .strict()
      .prefault({})
      .refine(
        (t) => t.tag <= t.quarantine && t.quarantine <= t.reject,
        'thresholds must satisfy tag <= quarantine <= reject',
      ),
    weights: z.partialRecord(symbolName, z.number()).default({}).describe('Per-symbol weight overrides'),
    failClosed: z
      .array(z.enum(FAMILIES))
      // An antivirus that cannot answer must not let mail through unscanned.
      .default(['AV'])
      .describe('Families whose <FAMILY>_ERROR quarantines the message instead of passing'),
    scannerTimeoutMs: z.number().int().min(10).max(60_000).default(5_000),
    subjectTag: z.string().default('[SPAM]'),
  })
  .strict();

export const ListsSchema = z
  .object({
    allow: z.array(listEntry).default([]),
    block: z.array(listEntry).default([]),
  })
  .strict();

export const LimitsSchema = z
  .object({
    maxMessageBytes: z
      .number()
      .int()
      .positive()
      .default(40 * 1024 * 1024)
      .describe('SES receives up to 40 MB'),
    maxParts: z.number().int().positive().default(500),
    maxDepth: z.number().int().positive().default(20),
    maxBodyChars: z.number().int().positive().default(2_000_000),
    maxRecipients: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(100)
      .describe('RCPT TO accepted per message; past it the listener answers 452, as Postfix does (SES: 100)'),
    maxConnections: z
      .number()
      .int()
      .min(1)
      .default(100)
      .describe('Concurrent SMTP connections the local listener serves; more are refused with 421'),
    maxDataSeconds: z
      .number()
      .int()
      .min(1)
      .default(600)
      .describe('Longest a client may take to send one message (DATA), however slowly it trickles'),
  })
  .strict();

/** Bounds on what attachment extraction decodes and unpacks; a crossed bound becomes a symbol, never an outage. */
export const AttachmentLimitsSchema = z
  .object({
    maxFiles: z
      .number()
      .int()
      .positive()
      .default(500)
      .describe('Files kept per message, archive members included (maxParts is 500 too)'),
    maxFileBytes: z
      .number()
      .int()
      .positive()
      .default(25 * 1024 * 1024)
      .describe('Largest single file decoded or unpacked; larger archive members are not inflated'),
    maxTotalBytes: z
      .number()
      .int()
      .positive()
      .default(100 * 1024 * 1024)
      .describe('All decoded and unpacked bytes of one message together: bounds memory per message'),
    maxArchiveDepth: z
      .number()
      .int()
      .min(1)
      .default(6)
      .describe('Archives inside archives opened this deep; deeper nesting is a symbol'),
    maxArchiveEntries: z
      .number()
      .int()
      .positive()
      .default(1000)
      .describe('Entries listed per archive; more is a symbol and the rest are not read'),
    maxCompressionRatio: z
      .number()
      .positive()
      .default(100)
      .describe('Uncompressed/compressed size above which an entry is a bomb and is not inflated'),
  })
  .strict();

export const DetectionSchema = z
  .object({
    vips: z
      .array(
        z
          .object({
            name: z.string().min(3).describe('The name as people write it, e.g. "Jane Doe"'),
            addresses: z
              .array(address)
              .default([])
              .describe('Addresses this person really sends from, besides the protected domains'),
          })
          .strict(),
      )
      .default([])
      .describe('People whose name in a From header from outside the protected domains is impersonation'),
    relatedDomains: z
      .array(domainName)
      .default([])
      .describe(
        'Other domains the organisation owns (e.g. its other TLDs): never reported as look-alikes of the protected domains',
      ),
    organizationNames: z
      .array(z.string().min(3))
      .default([])
      .describe(
        'Names of the protected organisation (e.g. "Example Corp"), flagged in display names from outside',
      ),
    dnsbl: z
      .object({
        zones: z
          .array(domainName)
          .default([])
          .describe(
            'Domain blocklist zones queried for link domains (e.g. a Spamhaus DBL mirror); none by default',
          ),
        timeoutMs: z.number().int().min(10).max(10_000).default(1_000),
        maxLookups: z
          .number()
          .int()
          .min(1)
          .max(100)
          .default(20)
          .describe('Distinct link domains looked up per message'),
      })
      .strict()
      .prefault({}),
    feedsDir: z
      .string()
      .optional()
      .describe('Folder of known-bad URL/domain feed files (one entry a line), filled by `seg feeds update`'),
  })
  .strict();

export const AttachmentsSchema = z
  .object({
    limits: AttachmentLimitsSchema.prefault({}),
    blockedExtensions: z
      .array(z.string().regex(/^[a-z0-9][a-z0-9.-]{0,30}$/, 'must be a lowercase extension without the dot'))
      .default([
        'ace',
        'arj',
        'cab',
        'chm',
        'hta',
        'iso',
        'img',
        'jse',
        'lnk',
        'scr',
        'vbe',
        'vhd',
        'vhdx',
        'wsf',
      ])
      .describe(
        'File types (extension or true type) always held, inside archives too: ATTACHMENT_BLOCKED_TYPE',
      ),
  })
  .strict();

export const DeliverySchema = z
  .object({
    maxQueueHours: z
      .number()
      .int()
      .min(1)
      .max(24 * 30)
      .default(120)
      .describe(
        "How long a message the organization's server refuses for now (4xx, no connection) is queued and retried before it is held as DELIVERY_FAILED (Postfix's maximal_queue_lifetime is 5 days)",
      ),
  })
  .strict();

export const AntivirusSchema = z
  .object({
    clamd: z
      .string()
      .regex(
        /^(tcp:\/\/[^\s]+:\d{1,5}\/?|unix:\S+|[/.]\S*)$/,
        'must be tcp://host:port, unix:///path or a socket path',
      )
      .optional()
      .describe(
        'clamd for `seg serve` and `seg scan`: tcp://127.0.0.1:3310 or a unix socket path. Default: the clamd `seg av start` (or `seg serve`) runs under <dataDir>/clamav',
      ),
    maxStreamBytes: z
      .number()
      .int()
      .min(1024)
      .max(1024 * 1024 * 1024)
      .default(25 * 1024 * 1024)
      .describe(
        "clamd's StreamMaxLength: larger files are not sent and get AV_SKIPPED_OVERSIZE (weight it in policy.weights to hold them)",
      ),
    autoStart: z
      .boolean()
      .default(true)
      .describe(
        '`seg serve` starts clamd under <dataDir>/clamav when none answers and ClamAV is installed (with `antivirus.clamd` unset)',
      ),
  })
  .strict();

export const LocalSchema = z
  .object({
    host: z.string().default('127.0.0.1'),
    smtpPort: z.number().int().min(0).max(65535).default(2525),
    submissionPort: z
      .number()
      .int()
      .min(0)
      .max(65535)
      .default(2587)
      .describe('Authenticated submission (outbound through DLP); 0 picks a free port'),
    tls: z
      .object({ keyFile: z.string(), certFile: z.string() })
      .strict()
      .optional()
      .describe('STARTTLS key and certificate for submission; by default a self-signed one is made at start'),
    dataDir: z.string().default('.seg'),
    downstream: z
      .object({ host: z.string(), port: z.number().int(), secure: z.boolean().default(false) })
      .strict()
      .optional()
      .describe(
        'Deliver to this SMTP server; by default messages are written to <dataDir>/delivered as .eml',
      ),
  })
  .strict();

/** A regex source that must compile; checked at load so a typo fails at synth or start. */
const regexSource = z
  .string()
  .min(1)
  .refine((p) => {
    try {
      new RegExp(p, 'u');
      return true;
    } catch {
      return false;
    }
  }, 'must be a valid regular expression (JavaScript syntax, u flag)');
const ruleName = z.string().regex(/^[\w .-]{1,64}$/, 'letters, digits, space, dot, dash or underscore');
const minMatches = z.number().int().min(1).default(1).describe('Matches needed in one message');

export const DlpSchema = z
  .object({
    nationalIds: z
      .array(
        z
          .object({
            name: ruleName,
            pattern: regexSource.describe('The ID as a regex, e.g. "\\b\\d{3}\\.\\d{3}\\.\\d{3}-\\d{2}\\b"'),
            contextWords: z
              .array(z.string().min(1))
              .default([])
              .describe('When set, a match counts only with one of these words near it'),
            minMatches,
          })
          .strict(),
      )
      .default([])
      .describe('National ID formats to find (DLP_NATIONAL_ID)'),
    dictionaries: z
      .array(z.object({ name: ruleName, words: z.array(z.string().min(1)).min(1), minMatches }).strict())
      .default([])
      .describe('Words or phrases (case-insensitive, whole words) to find (DLP_DICTIONARY)'),
    regexes: z
      .array(z.object({ name: ruleName, pattern: regexSource, minMatches }).strict())
      .default([])
      .describe('Custom patterns to find (DLP_REGEX)'),
    maxScanChars: z
      .number()
      .int()
      .positive()
      .default(5_000_000)
      .describe('Text scanned per message across subject, bodies and attachments; beyond it DLP_TRUNCATED'),
    maxAttachmentBytes: z
      .number()
      .int()
      .positive()
      .default(10 * 1024 * 1024)
      .describe('Attachments larger than this are not opened for text (DLP_TRUNCATED)'),
  })
  .strict();

/** What outbound policy may do with a message: hold it for review, refuse it, or mark it and send. */
export const OUTBOUND_ACTIONS = ['tag', 'quarantine', 'block'] as const;
export type OutboundAction = (typeof OUTBOUND_ACTIONS)[number];

/** A sender a submitter may use: an address, a domain, or *.domain. */
const senderPattern = listEntry;

export const SubmitterSchema = z
  .object({
    username: z.string().min(1).max(128),
    passwordHash: z
      .string()
      .regex(
        /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/,
        'must come from `seg config hash-password`',
      )
      .describe('scrypt hash from `seg config hash-password`; never the password'),
    allowedFrom: z
      .array(senderPattern)
      .min(1)
      .describe('Addresses or domains this submitter may send as (MAIL FROM and header From)'),
  })
  .strict();

export const OutboundSchema = z
  .object({
    actions: z
      .partialRecord(symbolName, z.enum(OUTBOUND_ACTIONS))
      .default({
        DLP_CARD_NUMBER: 'block',
        DLP_US_SSN: 'block',
        DLP_PRIVATE_KEY: 'block',
        DLP_AWS_ACCESS_KEY: 'block',
        DLP_SECRET_TOKEN: 'quarantine',
        DLP_IBAN: 'quarantine',
        DLP_NATIONAL_ID: 'quarantine',
        DLP_DICTIONARY: 'quarantine',
        DLP_REGEX: 'quarantine',
        DLP_TRUNCATED: 'tag',
        DLP_ERROR: 'quarantine',
        OUTBOUND_VOLUME_SPIKE: 'quarantine',
        OUTBOUND_SES_LIMIT: 'block',
        OUTBOUND_ERROR: 'tag',
        // Malware is blocked whatever this says; an antivirus that cannot answer holds the message.
        AV_INFECTED: 'block',
        AV_ERROR: 'quarantine',
      })
      .describe('What a finding does to an outgoing message; symbols not listed only count for the record'),
    configurationSet: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .default('seg-outbound')
      .describe('SES configuration set every outbound message is sent with (bounce/complaint events)'),
    identities: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'Verified SES identities (domains or addresses) From may use; defaults to the protected domains',
      ),
    submitters: z.array(SubmitterSchema).default([]).describe('Who may submit outbound mail, and as whom'),
    noticeFrom: address
      .optional()
      .describe('From of the notice a blocked sender receives; defaults to postmaster@ the first domain'),
    abuse: z
      .object({
        windowMinutes: z.number().int().min(1).max(1440).default(60),
        maxMessages: z.number().int().min(1).default(200).describe('Messages per sender per window'),
        maxRecipients: z.number().int().min(1).default(1000).describe('Recipients per sender per window'),
      })
      .strict()
      .prefault({})
      .describe('A sender above these counts in the window is flagged OUTBOUND_VOLUME_SPIKE'),
  })
  .strict();

export const ConfigSchema = z
  .object({
    $schema: z.string().optional(),
    region: z.string().default('us-east-1').describe('AWS region; must offer SES email receiving'),
    domains: z.array(DomainSchema).min(1),
    policy: PolicySchema.prefault({}),
    lists: ListsSchema.prefault({}),
    limits: LimitsSchema.prefault({}),
    attachments: AttachmentsSchema.prefault({}),
    retention: z
      .object({
        quarantineDays: z.number().int().min(1).max(3650).default(30),
        messageDays: z.number().int().min(1).max(3650).default(30),
      })
      .strict()
      .prefault({}),
    delivery: DeliverySchema.prefault({}),
    detection: DetectionSchema.prefault({}),
    vpc: z
      .object({ vpcId: z.string(), subnetIds: z.array(z.string()).min(1) })
      .strict()
      .optional()
      .describe('Run delivery in this VPC (needed for port 25 routes)'),
    notifications: z
      .object({
        email: z
          .email()
          .optional()
          .describe('Send the gateway alarms (mail stuck, messages not disposed) to this address over SNS'),
      })
      .strict()
      .prefault({}),
    receiving: z
      .object({
        replaceActiveRuleSet: z
          .boolean()
          .default(false)
          .describe(
            'Let the deploy replace another receipt rule set that is active in the region (SES has one active set per region); otherwise the deploy fails and changes nothing',
          ),
      })
      .strict()
      .prefault({}),
    antivirus: AntivirusSchema.prefault({}),
    local: LocalSchema.prefault({}),
    dlp: DlpSchema.prefault({}),
    outbound: OutboundSchema.prefault({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    c.domains.forEach((d, i) => {
      if (d.route.port === 25 && !c.vpc) {
        ctx.addIssue({
          code: 'custom',
          path: ['domains', i, 'route', 'port'],
          message: 'port 25 needs `vpc`: Lambda blocks outbound port 25 outside a VPC',
        });
      }
    });
    // A quarantine item points at its raw message: an item that outlives the message cannot be released.
    if (c.retention.quarantineDays > c.retention.messageDays) {
      ctx.addIssue({
        code: 'custom',
        path: ['retention', 'quarantineDays'],
        message: `must not exceed retention.messageDays (${c.retention.messageDays}): a quarantined item would outlive its message and could not be released`,
      });
    }
    // The retries need the raw message and the item: both must outlive the queue.
    const keptHours = 24 * Math.min(c.retention.messageDays, c.retention.quarantineDays);
    if (c.delivery.maxQueueHours > keptHours) {
      ctx.addIssue({
        code: 'custom',
        path: ['delivery', 'maxQueueHours'],
        message: `must not exceed the retention (${keptHours} hours): deferred messages would be deleted before their last retry`,
      });
    }
    c.domains.forEach((d, i) => {
      if (d.manageMx && !d.hostedZoneId) {
        ctx.addIssue({
          code: 'custom',
          path: ['domains', i, 'manageMx'],
          message: 'manageMx needs hostedZoneId: the MX record is created in that zone',
        });
      }
      // SES refuses a MAIL FROM domain that receives mail: it must not be a protected domain.
      const mailFrom = d.mailFromSubdomain && `${d.mailFromSubdomain}.${d.name}`;
      if (mailFrom && c.domains.some((o) => o.name === mailFrom)) {
        ctx.addIssue({
          code: 'custom',
          path: ['domains', i, 'mailFromSubdomain'],
          message: `MAIL FROM domain ${mailFrom} is also a protected (receiving) domain: pick another mailFromSubdomain`,
        });
      }
    });
    // One receipt rule holds every condition (so a message to two domains is ingested once, whole),
    // so the set has one rule of SES's 200 and the conditions must fit SES's 100 per rule.
    const conditions = ruleRecipients(c.domains).length;
    if (conditions > SES_RECEIPT_LIMITS.recipientsPerRule) {
      ctx.addIssue({
        code: 'custom',
        path: ['domains'],
        message: `${conditions} recipient conditions (domains, or their listed recipients) exceed SES's ${SES_RECEIPT_LIMITS.recipientsPerRule} per receipt rule: list fewer addresses, or protect whole domains`,
      });
    }
    const names = c.domains.map((d) => d.name);
    for (const dup of names.filter((n, i) => names.indexOf(n) !== i)) {
      ctx.addIssue({ code: 'custom', path: ['domains'], message: `domain ${dup} is listed twice` });
    }
  });

export type SegConfig = z.infer<typeof ConfigSchema>;
export type Policy = SegConfig['policy'];
export type Lists = SegConfig['lists'];
export type Limits = SegConfig['limits'];
export type Delivery = SegConfig['delivery'];
export type Detection = SegConfig['detection'];
export type AntivirusConfig = SegConfig['antivirus'];
export type DomainConfig = SegConfig['domains'][number];
export type SmtpRoute = DomainConfig['route'];
export type AttachmentLimits = z.infer<typeof AttachmentLimitsSchema>;
export type DlpConfig = SegConfig['dlp'];
export type OutboundConfig = SegConfig['outbound'];
export type Submitter = OutboundConfig['submitters'][number];
export type Attachments = SegConfig['attachments'];
