// The one symbol table: every finding a scanner can emit, its family, default weight and meaning.
// Symbol names are a type derived from this table, so a typo fails to compile. Weights here are
// defaults; the policy may override any of them (config `policy.weights`).

export const FAMILIES = [
  'AUTH',
  'GTUBE',
  'LIST',
  'CONTENT',
  'URL',
  'MIME',
  'SES',
  'CLASSIFIER',
  'IMPERSONATION',
  'HEADER',
  'ATTACHMENT',
  'AV',
  'DLP',
  'OUTBOUND',
] as const;
export type Family = (typeof FAMILIES)[number];

interface SymbolDef {
  readonly family: Family;
  readonly weight: number;
  readonly description: string;
}

export const SYMBOLS = {
  // Email authentication (RFC 8601 result words).
  SPF_PASS: { family: 'AUTH', weight: -0.5, description: 'SPF authorized the sending host' },
  SPF_FAIL: { family: 'AUTH', weight: 2, description: 'SPF says the host is not authorized' },
  SPF_SOFTFAIL: { family: 'AUTH', weight: 1, description: 'SPF softfail (~all)' },
  SPF_NEUTRAL: { family: 'AUTH', weight: 0, description: 'SPF neutral (?all)' },
  SPF_NONE: { family: 'AUTH', weight: 0.5, description: 'The sender domain publishes no SPF record' },
  SPF_TEMPERROR: { family: 'AUTH', weight: 0, description: 'SPF lookup failed temporarily' },
  SPF_PERMERROR: { family: 'AUTH', weight: 0.5, description: 'The SPF record is broken' },
  DKIM_PASS: { family: 'AUTH', weight: -0.5, description: 'A DKIM signature verified' },
  DKIM_FAIL: { family: 'AUTH', weight: 1.5, description: 'A DKIM signature did not verify' },
  // Unsigned mail is no evidence by itself (rspamd's R_DKIM_NA scores 0, SpamAssassin has no rule for
  // it): DMARC weighs a missing signature where the From domain's policy asks for one.
  DKIM_NONE: { family: 'AUTH', weight: 0, description: 'The message carries no DKIM signature' },
  DKIM_TEMPERROR: { family: 'AUTH', weight: 0, description: 'DKIM key lookup failed temporarily' },
  DKIM_PERMERROR: { family: 'AUTH', weight: 0.5, description: 'A DKIM signature or key is malformed' },
  DMARC_PASS: { family: 'AUTH', weight: -1, description: 'DMARC passed with alignment' },
  DMARC_FAIL_REJECT: {
    family: 'AUTH',
    weight: 6,
    description: 'DMARC failed and the domain asks for reject',
  },
  DMARC_FAIL_QUARANTINE: {
    family: 'AUTH',
    weight: 4,
    description: 'DMARC failed and the domain asks for quarantine',
  },
  DMARC_FAIL_NONE: { family: 'AUTH', weight: 1, description: 'DMARC failed; the domain policy is none' },
  DMARC_NONE: { family: 'AUTH', weight: 0, description: 'The From domain publishes no DMARC record' },
  DMARC_TEMPERROR: { family: 'AUTH', weight: 0, description: 'DMARC lookup failed temporarily' },
  ARC_PASS: { family: 'AUTH', weight: 0, description: 'The ARC chain validated' },
  ARC_FAIL: { family: 'AUTH', weight: 1, description: 'The ARC chain is broken' },
  AUTH_ERROR: { family: 'AUTH', weight: 0, description: 'Our authentication scanner could not answer' },

  // SES receipt verdicts with no mailauth counterpart (its SPF/DKIM/DMARC verdicts map to the AUTH rows).
  SES_SPAM_FAIL: { family: 'SES', weight: 4, description: 'SES receipt spam verdict FAIL' },
  SES_VIRUS_FAIL: { family: 'SES', weight: 20, description: 'SES receipt virus verdict FAIL' },
  SES_ERROR: { family: 'SES', weight: 0, description: 'SES could not compute a verdict (PROCESSING_FAILED)' },

  GTUBE: { family: 'GTUBE', weight: 1000, description: 'The GTUBE anti-spam test string' },
  GTUBE_ERROR: { family: 'GTUBE', weight: 0, description: 'Our GTUBE scanner could not answer' },

  LIST_SENDER_ALLOWED: { family: 'LIST', weight: -20, description: 'Sender or domain is on the allow list' },
  LIST_SENDER_BLOCKED: { family: 'LIST', weight: 20, description: 'Sender or domain is on the block list' },
  LIST_ERROR: { family: 'LIST', weight: 0, description: 'Our allow/block list scanner could not answer' },

  CONTENT_SPAM_PHRASES: {
    family: 'CONTENT',
    weight: 1.5,
    description: 'Body uses phrases common in spam (1.5 per phrase beyond the first, at most 4.5)',
  },
  CONTENT_URGENCY: {
    family: 'CONTENT',
    weight: 2.5,
    description: 'Body pressures the reader to act now (account, password)',
  },
  CONTENT_HTML_ONLY: { family: 'CONTENT', weight: 1.5, description: 'HTML body with no text alternative' },
  CONTENT_SUBJECT_ALL_CAPS: { family: 'CONTENT', weight: 1.5, description: 'Subject is written in capitals' },
  CONTENT_EMPTY: { family: 'CONTENT', weight: 1, description: 'No subject and no body text' },
  CONTENT_BRAND_IMPERSONATION: {
    family: 'CONTENT',
    weight: 3.5,
    description: 'The sender name claims a well-known brand the sender domain does not carry',
  },
  CONTENT_GREETS_ADDRESS: {
    family: 'CONTENT',
    weight: 3,
    description: 'The greeting addresses the reader by email address, as mass mailers do',
  },
  CONTENT_OBFUSCATED_TEXT: {
    family: 'CONTENT',
    weight: 3,
    description: 'Look-alike letters: words mixing Latin with Cyrillic/Greek, or styled math letters',
  },
  CONTENT_IMAGE_ONLY: {
    family: 'CONTENT',
    weight: 4,
    description: 'HTML body with almost no text: the message is images and links',
  },
  CONTENT_SUBJECT_PADDED: {
    family: 'CONTENT',
    weight: 2.5,
    description: 'Subject padded with spaces before a trailing token, as bulk mailers track batches',
  },
  CONTENT_SUBJECT_BAIT: {
    family: 'CONTENT',
    weight: 1,
    description: 'Subject dangles money, "free" or "!!"',
  },
  CONTENT_UNDISCLOSED_RECIPIENTS: {
    family: 'CONTENT',
    weight: 1,
    description: 'The To header hides the recipients (undisclosed-recipients)',
  },
  CONTENT_HIDDEN_TEXT: {
    family: 'CONTENT',
    weight: 2,
    description: 'HTML hides text with a zero font size, a filter-evasion trick',
  },
  CONTENT_HIDDEN_BLOCK: {
    family: 'CONTENT',
    weight: 2,
    description: 'HTML hides a block of text (display:none, invisible, tiny or background-colored)',
  },
  CONTENT_ZERO_WIDTH: {
    family: 'CONTENT',
    weight: 2,
    description: 'Zero-width or soft-hyphen characters split words, a filter-evasion trick',
  },
  CONTENT_DOWNLOAD_LURE: {
    family: 'CONTENT',
    weight: 4,
    description:
      'Piracy-stuffed subject (crack, keygen, full version, 1080p) and a download link as the body',
  },
  CONTENT_ERROR: { family: 'CONTENT', weight: 0, description: 'Our content scanner could not answer' },

  URL_HREF_TEXT_MISMATCH: {
    family: 'URL',
    weight: 3,
    description: 'A link shows one domain and points to another',
  },
  URL_IP_HOST: { family: 'URL', weight: 2.5, description: 'A link points to a bare IP address' },
  URL_SHORTENER: { family: 'URL', weight: 2, description: 'A link goes through a URL shortener' },
  URL_SUSPICIOUS_TLD: {
    family: 'URL',
    weight: 2,
    description: 'A link uses a TLD often abused for phishing',
  },
  URL_CREDENTIALS: { family: 'URL', weight: 2, description: 'A link embeds user:password@host' },
  URL_PUNYCODE: { family: 'URL', weight: 1.5, description: 'A link host uses punycode (possible homograph)' },
  URL_NUMERIC_HOST: {
    family: 'URL',
    weight: 4,
    description: 'A link hides an IP address as a decimal, hex or octal number',
  },
  URL_LOOKALIKE_PROTECTED: {
    family: 'URL',
    weight: 5,
    description: 'A link domain imitates a protected domain (homoglyphs, a typo or another TLD)',
  },
  URL_LOOKALIKE_BRAND: {
    family: 'URL',
    weight: 4,
    description: 'A link domain imitates a well-known brand (homoglyphs or a typo)',
  },
  URL_BRAND_IN_HOST: {
    family: 'URL',
    weight: 3,
    description: "A brand name in the subdomain of a domain that is not the brand's",
  },
  URL_BRAND_IN_PATH: {
    family: 'URL',
    weight: 1,
    description: "A brand name in the path of a link to a domain that is not the brand's",
  },
  URL_OPEN_REDIRECT: {
    family: 'URL',
    weight: 1,
    description: "A trusted brand's redirect sends the reader to another domain",
  },
  URL_REDIRECT_PARAM: {
    family: 'URL',
    weight: 0.5,
    description: 'A link carries another domain in a query parameter (redirect or tracker)',
  },
  URL_DATA_URI: {
    family: 'URL',
    weight: 3,
    description: 'A link or frame opens a data: URI (a page with no host to check)',
  },
  URL_JAVASCRIPT: { family: 'URL', weight: 1, description: 'A link runs javascript:' },
  URL_PASSWORD_FORM: {
    family: 'URL',
    weight: 5,
    description: 'An HTML form asks for a password and posts to a domain other than the sender',
  },
  URL_FEED_LISTED: {
    family: 'URL',
    weight: 10,
    description: 'A link is on a local known-bad URL or domain feed',
  },
  URL_DNSBL_LISTED: {
    family: 'URL',
    weight: 6,
    description: 'A link domain is listed by a configured DNS blocklist zone',
  },
  URL_MANY: { family: 'URL', weight: 0.5, description: 'The message carries an unusual number of links' },
  URL_ERROR: { family: 'URL', weight: 0, description: 'Our URL scanner could not answer' },

  MIME_TRUNCATED: {
    family: 'MIME',
    weight: 1,
    description: 'The message exceeded a parse limit and was cut',
  },
  MIME_MALFORMED: { family: 'MIME', weight: 1.5, description: 'The MIME structure is broken' },
  MIME_UNREADABLE_PART: { family: 'MIME', weight: 0.5, description: 'A part could not be decoded' },
  MIME_OVERSIZED: { family: 'MIME', weight: 0, description: 'The message exceeds the size we scan' },
  MIME_ERROR: { family: 'MIME', weight: 0, description: 'The message could not be parsed at all' },

  // The trained text classifier (spam and phish).
  CLASSIFIER_HAM: {
    family: 'CLASSIFIER',
    weight: -2,
    description: 'The trained classifier gives spam-or-phish under 1%: reads as legitimate mail',
  },
  CLASSIFIER_HAM_999: {
    family: 'CLASSIFIER',
    weight: -4,
    description: 'The trained classifier gives spam-or-phish under 0.1%: surely legitimate mail',
  },
  // Bands of the probability of spam or phish (PHISH when the phish head says so), as BAYES_99 in SpamAssassin.
  CLASSIFIER_SPAM_999: {
    family: 'CLASSIFIER',
    weight: 10,
    description: 'The trained classifier gives spam-or-phish 99.9% or more; reads as spam',
  },
  CLASSIFIER_SPAM_99: {
    family: 'CLASSIFIER',
    weight: 8,
    description: 'The trained classifier gives spam-or-phish 99% or more; reads as spam',
  },
  CLASSIFIER_SPAM_95: {
    family: 'CLASSIFIER',
    weight: 6,
    description: 'The trained classifier gives spam-or-phish 95% or more; reads as spam',
  },
  CLASSIFIER_SPAM_80: {
    family: 'CLASSIFIER',
    weight: 5,
    description: 'The trained classifier gives spam-or-phish 80% or more; reads as spam',
  },
  CLASSIFIER_PHISH_999: {
    family: 'CLASSIFIER',
    weight: 10,
    description: 'The trained classifier gives spam-or-phish 99.9% or more; reads as phish',
  },
  CLASSIFIER_PHISH_99: {
    family: 'CLASSIFIER',
    weight: 8,
    description: 'The trained classifier gives spam-or-phish 99% or more; reads as phish',
  },
  CLASSIFIER_PHISH_95: {
    family: 'CLASSIFIER',
    weight: 6,
    description: 'The trained classifier gives spam-or-phish 95% or more; reads as phish',
  },
  CLASSIFIER_PHISH_80: {
    family: 'CLASSIFIER',
    weight: 5,
    description: 'The trained classifier gives spam-or-phish 80% or more; reads as phish',
  },
  CLASSIFIER_ERROR: { family: 'CLASSIFIER', weight: 0, description: 'Our classifier could not answer' },

  // Impersonation and business email compromise.
  IMPERSONATION_VIP_NAME: {
    family: 'IMPERSONATION',
    weight: 6,
    description: 'The From name is a configured VIP, from outside the protected domains',
  },
  IMPERSONATION_ORG_NAME: {
    family: 'IMPERSONATION',
    weight: 3,
    description: "The From name is the organisation's, from outside the protected domains",
  },
  IMPERSONATION_LOOKALIKE_DOMAIN: {
    family: 'IMPERSONATION',
    weight: 6,
    description: 'The From or Reply-To domain imitates a protected domain (homoglyphs, a typo, another TLD)',
  },
  // Weight 1: alone it fires on 0.05% of 2002 ham and about 0.2% of spam and phish, so it only adds.
  IMPERSONATION_NAME_ADDRESS: {
    family: 'IMPERSONATION',
    weight: 1,
    description: 'The From name shows an address at another domain than the real sender',
  },
  IMPERSONATION_REPLY_TO_FREEMAIL: {
    family: 'IMPERSONATION',
    weight: 2,
    description: 'Replies go to a free mailbox while the sender is a company domain',
  },
  IMPERSONATION_REPLY_TO_DIVERGES: {
    family: 'IMPERSONATION',
    weight: 2,
    description: 'Mail from a protected domain steers replies to another domain',
  },
  IMPERSONATION_RETURN_PATH_DIVERGES: {
    family: 'IMPERSONATION',
    weight: 1,
    description: 'Mail from a protected domain bounces to another domain',
  },
  IMPERSONATION_BEC_REQUEST: {
    family: 'IMPERSONATION',
    weight: 2.5,
    description: 'A payment, gift card or bank-change request together with pressure or payment details',
  },
  IMPERSONATION_ERROR: {
    family: 'IMPERSONATION',
    weight: 0,
    description: 'Our impersonation scanner could not answer',
  },

  // Header anomalies.
  HEADER_MISSING_DATE: { family: 'HEADER', weight: 0.5, description: 'The message has no Date header' },
  HEADER_DATE_MALFORMED: { family: 'HEADER', weight: 1, description: 'The Date header cannot be read' },
  HEADER_DATE_FUTURE: {
    family: 'HEADER',
    weight: 2,
    description: 'The Date is days after the receiving server got the message',
  },
  HEADER_DATE_PAST: {
    family: 'HEADER',
    weight: 1,
    description: 'The Date is months before the receiving server got the message',
  },
  HEADER_MISSING_MESSAGE_ID: { family: 'HEADER', weight: 1, description: 'The message has no Message-ID' },
  HEADER_MESSAGE_ID_MALFORMED: {
    family: 'HEADER',
    weight: 1,
    description: 'The Message-ID is not <local@domain>',
  },
  HEADER_FROM_MULTIPLE: { family: 'HEADER', weight: 3, description: 'The message has several From headers' },
  HEADER_FROM_MISSING: { family: 'HEADER', weight: 1.5, description: 'The message has no From address' },
  HEADER_ERROR: { family: 'HEADER', weight: 0, description: 'Our header scanner could not answer' },

  // Attachments: true types, risky formats, archives. Programs, scripts, shortcuts, disk images, macros
  // and bombs weigh the quarantine threshold (10) on their own: mail is no way to ship them.
  ATTACHMENT_EXECUTABLE: {
    family: 'ATTACHMENT',
    weight: 10,
    description: 'A program (PE, ELF, Mach-O, MSI, Java) by true type or name',
  },
  ATTACHMENT_SCRIPT: {
    family: 'ATTACHMENT',
    weight: 10,
    description: 'A script Windows runs on a click (.js, .vbs, .wsf, .hta, .ps1, .bat, .cmd, .reg ...)',
  },
  ATTACHMENT_SHORTCUT: {
    family: 'ATTACHMENT',
    weight: 10,
    description:
      'A shortcut or search file (.lnk, .url, .library-ms, .searchConnector-ms, .settingcontent-ms)',
  },
  ATTACHMENT_DISK_IMAGE: {
    family: 'ATTACHMENT',
    weight: 10,
    description: 'A disk image (ISO, IMG, VHD, VHDX, DMG): mounted, its files escape Mark-of-the-Web',
  },
  ATTACHMENT_OFFICE_MACRO: {
    family: 'ATTACHMENT',
    weight: 10,
    description: 'An Office document with a VBA macro project (OOXML vbaProject.bin or an OLE VBA storage)',
  },
  ATTACHMENT_ONENOTE_EMBEDDED: {
    family: 'ATTACHMENT',
    weight: 10,
    description: 'A OneNote section with embedded files',
  },
  ATTACHMENT_BLOCKED_TYPE: {
    family: 'ATTACHMENT',
    weight: 10,
    description: "A file type on the config's blocked list (attachments.blockedExtensions)",
  },
  ATTACHMENT_DOUBLE_EXTENSION: {
    family: 'ATTACHMENT',
    weight: 5,
    description: 'A risky file named like a document (invoice.pdf.exe, or spaces before the real extension)',
  },
  ATTACHMENT_RTLO_NAME: {
    family: 'ATTACHMENT',
    weight: 8,
    description:
      'A file name with a right-to-left override or other bidi control that disguises its extension',
  },
  ATTACHMENT_TYPE_MISMATCH: {
    family: 'ATTACHMENT',
    weight: 3,
    description: 'The true type (magic bytes) contradicts the file name or the declared MIME type',
  },
  ATTACHMENT_HTML_SMUGGLING: {
    family: 'ATTACHMENT',
    weight: 8,
    description: 'An HTML attachment that builds a file in the browser (atob/Blob/msSaveBlob/data: download)',
  },
  ATTACHMENT_HTML_FORM: {
    family: 'ATTACHMENT',
    weight: 6,
    description: 'An HTML attachment with a form or password field: a local phishing page',
  },
  ATTACHMENT_HTML_SCRIPT: {
    family: 'ATTACHMENT',
    weight: 3,
    description: 'An HTML attachment with scripts, obfuscation or a redirect on open',
  },
  ATTACHMENT_PDF_JAVASCRIPT: {
    family: 'ATTACHMENT',
    weight: 5,
    description: 'A PDF with /JavaScript or /JS',
  },
  ATTACHMENT_PDF_LAUNCH: {
    family: 'ATTACHMENT',
    weight: 8,
    description: 'A PDF with a /Launch action (runs a program)',
  },
  ATTACHMENT_PDF_AUTO_ACTION: {
    family: 'ATTACHMENT',
    weight: 1,
    description: 'A PDF that acts on open (/OpenAction, /AA)',
  },
  ATTACHMENT_PDF_EMBEDDED_FILE: {
    family: 'ATTACHMENT',
    weight: 3,
    description: 'A PDF with embedded files (/EmbeddedFile)',
  },
  ATTACHMENT_CALENDAR_LINKS: {
    family: 'ATTACHMENT',
    weight: 1.5,
    description: 'A calendar invitation carrying links or attachments (invites bypass the inbox)',
  },
  ATTACHMENT_ARCHIVE_BOMB: {
    family: 'ATTACHMENT',
    weight: 10,
    description: 'An archive member beyond the size or compression-ratio limit (a zip bomb); not inflated',
  },
  ATTACHMENT_ARCHIVE_TOO_MANY_ENTRIES: {
    family: 'ATTACHMENT',
    weight: 5,
    description: 'An archive with more entries than we list (attachments.limits.maxArchiveEntries)',
  },
  ATTACHMENT_ARCHIVE_TOO_DEEP: {
    family: 'ATTACHMENT',
    weight: 5,
    description: 'Archives nested deeper than we open (attachments.limits.maxArchiveDepth)',
  },
  ATTACHMENT_ARCHIVE_ENCRYPTED: {
    family: 'ATTACHMENT',
    weight: 5,
    description: 'A password-protected archive: its contents cannot be scanned',
  },
  ATTACHMENT_ARCHIVE_UNSUPPORTED: {
    family: 'ATTACHMENT',
    weight: 3,
    description: 'An archive we identify but do not open (7z, rar, cab, ace, arj, ...)',
  },
  ATTACHMENT_ARCHIVE_UNREADABLE: {
    family: 'ATTACHMENT',
    weight: 10,
    description: 'A file named or typed as an archive that no reader opens: it cannot be scanned',
  },
  ATTACHMENT_AMBIGUOUS_MIME: {
    family: 'ATTACHMENT',
    weight: 6,
    description: 'A file only a lenient MIME reading finds: mail parsers disagree about this part',
  },
  ATTACHMENT_TRUNCATED: {
    family: 'ATTACHMENT',
    weight: 1,
    description: 'Attachment extraction stopped at a limit (files or bytes per message)',
  },
  ATTACHMENT_ERROR: {
    family: 'ATTACHMENT',
    weight: 0,
    description: 'Our attachment scanner could not answer',
  },

  // Antivirus engine (clamd).
  AV_ERROR: { family: 'AV', weight: 0, description: 'The antivirus engine could not answer' },
  AV_INFECTED: {
    family: 'AV',
    weight: 100,
    description: 'The antivirus engine found malware in the message or an attached file',
  },
  AV_SKIPPED_OVERSIZE: {
    family: 'AV',
    weight: 0,
    description:
      "A file is larger than the antivirus engine accepts (clamd's StreamMaxLength) and was not scanned",
  },

  // Outbound data loss prevention.
  // Weights only rank findings in the trace: what an outbound finding does is config `outbound.actions`.
  DLP_CARD_NUMBER: {
    family: 'DLP',
    weight: 10,
    description: 'A payment card number (Luhn-valid, known issuer range)',
  },
  DLP_IBAN: { family: 'DLP', weight: 5, description: 'An IBAN (mod-97 valid, right length for its country)' },
  DLP_US_SSN: { family: 'DLP', weight: 10, description: 'A US Social Security number in a valid range' },
  DLP_NATIONAL_ID: { family: 'DLP', weight: 5, description: 'A national ID matching a configured pattern' },
  DLP_AWS_ACCESS_KEY: { family: 'DLP', weight: 10, description: 'An AWS access key id' },
  DLP_SECRET_TOKEN: {
    family: 'DLP',
    weight: 8,
    description: 'An API token or random-looking secret assigned to a secret-ish name',
  },
  DLP_PRIVATE_KEY: { family: 'DLP', weight: 10, description: 'A PEM private key block' },
  DLP_DICTIONARY: {
    family: 'DLP',
    weight: 5,
    description: 'Words from a configured dictionary, enough times',
  },
  DLP_REGEX: { family: 'DLP', weight: 5, description: 'A configured pattern, enough times' },
  DLP_TRUNCATED: {
    family: 'DLP',
    weight: 0,
    description: 'Part of the message or an attachment was beyond the DLP size limits and not searched',
  },
  DLP_ERROR: { family: 'DLP', weight: 0, description: 'Our DLP scanner could not answer' },

  // Outbound abuse (a compromised sender account).
  OUTBOUND_VOLUME_SPIKE: {
    family: 'OUTBOUND',
    weight: 5,
    description: 'The sender sent more messages or recipients in the window than the abuse limits allow',
  },
  OUTBOUND_SES_LIMIT: {
    family: 'OUTBOUND',
    weight: 0,
    description:
      'SES would refuse it: over 40 MB, From not a verified identity, or a blocked attachment type',
  },
  OUTBOUND_ERROR: { family: 'OUTBOUND', weight: 0, description: 'Our outbound abuse check could not answer' },
} as const satisfies Record<string, SymbolDef>;

export type SymbolName = keyof typeof SYMBOLS;

/** The `<FAMILY>_ERROR` symbol a failing scanner of this family yields. */
export function errorSymbol(family: Family): SymbolName {
  return `${family}_ERROR` as SymbolName;
}
