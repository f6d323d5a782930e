// A first content scanner: a few explainable rules over the sender name, subject and text (spam
// phrases, urgency phrases, brand impersonation, greeting by address, look-alike letters, image-only,
// HTML-only and hidden-text bodies, padded, baiting or all-caps subjects, hidden recipients, empty
// messages). No statistics, no learning: phrase lists
// and weights were tuned on a labeled development corpus for a ham false-positive rate under 1%.

import { getDomain } from 'tldts';
import { phraseText } from '../phrase-text.ts';
import type { Scanner } from '../scanner.ts';
import type { Finding } from '../types.ts';

// Phrases of bulk commercial spam. Each one kept here appears in under 0.5% of the development ham
// (except "click here" and "guarantee", about 2%), yet one alone proves nothing, so the rule needs
// SPAM_PHRASES_MIN distinct ones. No phrase contains another, so none is counted twice.
export const SPAM_PHRASES = [
  'to be removed',
  'removed from our',
  'remove you from',
  'this is not spam',
  'not a spam',
  'one-time mailing',
  'one time mailing',
  'no obligation',
  'opt-in',
  'mortgage',
  'guarantee',
  'click here',
  'click below',
  '!!!',
  'act now',
  'limited time',
  'order now',
  'order today',
  'apply now',
  'call now',
  '100% free',
  'risk free',
  'risk-free',
  'money back',
  'double your',
  'extra income',
  'make money',
  'work from home',
  'be your own boss',
  'financial freedom',
  'best price',
  'special promotion',
  'you have been selected',
  'congratulations',
  'no credit check',
  'credit card',
  'lose weight',
  'viagra',
  'dear friend',
  'million dollars',
  'investment opportunity',
  'dear sir or madam',
  'dear sir/madam',
  'specially selected',
  'last chance',
  'bad credit',
  'refinance',
  'debt',
  'save up to',
  'special offer',
  'increase your',
  'per week',
  '$$$',
  'horny',
  'casino',
  'pharmacy',
  'weight loss',
  'no cost',
  'removal',
  'you have won',
  // Advance-fee ("419") letters.
  'next of kin',
  'beneficiary',
  'atm card',
  'consignment',
  'barrister',
  'business proposal',
  'the sum of',
  'urgent response',
  'strictly confidential',
  'lottery',
] as const;
const SPAM_PHRASES_MIN = 2;
// Points per phrase beyond the first, capped: three phrases are suspicious, eight are a pitch. The cap
// stays under the tag threshold (5): a phrase list does not carry over to mail it was not tuned on, so
// on its own it never flags a message (a commercial newsletter says "click here" and "order today"
// too); with any other sign it does. On the tuning split this cleared 1 of 11 ham flags, no spam lost.
const SPAM_PHRASE_POINTS = 1.5;
export const SPAM_PHRASES_MAX_POINTS = 4.5;

// Pressure to act on an account, credentials or a prize: the core of phishing lures.
export const URGENCY_PHRASES = [
  'verify your account',
  'verify your identity',
  'verify your email',
  'confirm your account',
  'confirm your identity',
  'update your account',
  'update your payment',
  'update your billing',
  'account has been suspended',
  'account will be suspended',
  'account has been locked',
  'account will be closed',
  'account has been limited',
  'unusual activity',
  'unusual sign',
  'suspicious activity',
  'password will expire',
  'reset your password',
  'confirm your password',
  'log in to your account',
  'login to your account',
  'sign in to your account',
  'validate your',
  'within 24 hours',
  'within 48 hours',
  'failure to',
  'permanently deleted',
  'storage is full',
  'security alert',
  'action required',
  'final notice',
  'expire',
  'suspended',
  'verify',
  'urgent',
  'immediately',
  'reward',
  'claim your',
  'gift card',
  'wallet',
] as const;
const URGENCY_MIN = 3;

// Brands most impersonated in phishing (APWG and vendor reports). Matched as whole words in the
// display name; the rule fires when the From domain does not contain the brand.
export const BRANDS = [
  'paypal',
  'microsoft',
  'office 365',
  'outlook',
  'apple',
  'icloud',
  'amazon',
  'netflix',
  'coinbase',
  'binance',
  'metamask',
  'ledger',
  'trust wallet',
  'dhl',
  'fedex',
  'usps',
  'docusign',
  'wells fargo',
  'chase',
  'bank of america',
  'american express',
  'bradesco',
  'itau',
  'santander',
  'nubank',
  'livelo',
  'facebook',
  'instagram',
  'whatsapp',
  'linkedin',
  'google',
  'adobe',
  'dropbox',
  'norton',
  'mcafee',
  'walmart',
  'costco',
  'home depot',
  'ebay',
  'spotify',
] as const;

// Only the start and the end of the body are read: lures and pitches put their words up front, padding
// pushes them to the end (issue 7), and this bounds the work per message regardless of the body cap.
const READ_CHARS = 20_000;

/** The first and last READ_CHARS / 2 characters of a long text, joined. */
function headAndTail(text: string): string {
  if (text.length <= READ_CHARS) return text;
  return `${text.slice(0, READ_CHARS / 2)}\n${text.slice(-READ_CHARS / 2)}`;
}
// Below this much visible text an HTML message is "images and links": real letters say something.
const LITTLE_TEXT_CHARS = 100;

/**
 * A phrase list matched in one pass over the text. Word phrases must start a word, so "act now" is not
 * found inside "contact now"; punctuation phrases ("!!!") may follow a word directly.
 */
export class PhraseList {
  private readonly any: RegExp;
  /** For each phrase, the others that start with it or that it starts with ("verify", "verify your email"). */
  private readonly sharingStart: ReadonlyMap<string, readonly string[]>;

  constructor(private readonly phrases: readonly string[]) {
    const escaped = phrases.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    this.any = new RegExp(escaped.join('|'), 'gu');
    this.sharingStart = new Map(
      phrases.map((p) => [p, phrases.filter((q) => q !== p && (q.startsWith(p) || p.startsWith(q)))]),
    );
  }

  /** The phrases `text` holds, in list order. */
  hits(text: string): string[] {
    const found = new Set<string>();
    this.any.lastIndex = 0;
    for (let m = this.any.exec(text); m; m = this.any.exec(text)) {
      const at = m.index;
      const startsWord = !WORD_CHAR_BEFORE.test(text.slice(Math.max(0, at - 2), at));
      // The alternation reports one phrase per position: the others starting there are checked here.
      for (const p of [m[0], ...(this.sharingStart.get(m[0]) ?? [])]) {
        if (text.startsWith(p, at) && (startsWord || !WORD_CHAR.test(p))) found.add(p);
      }
      // Resume one character on, not after the match: a phrase may begin inside another's match.
      this.any.lastIndex = at + 1;
    }
    return found.size ? this.phrases.filter((p) => found.has(p)) : [];
  }
}
// A phrase that starts with a letter or digit, and text that ends with one (a surrogate pair included).
const WORD_CHAR = /^[\p{L}\p{N}]/u;
const WORD_CHAR_BEFORE = /[\p{L}\p{N}]$/u;
const SPAM_MATCHERS = new PhraseList(SPAM_PHRASES);
const URGENCY_MATCHERS = new PhraseList(URGENCY_PHRASES);

function isAllCaps(subject: string): boolean {
  const letters = subject.replace(/[^\p{L}]/gu, '');
  if (letters.length < 8) return false;
  const upper = letters.replace(/[^\p{Lu}]/gu, '').length;
  return upper / letters.length >= 0.9;
}

const BRAND_MATCHERS = BRANDS.map((b) => [b, new RegExp(`\\b${b}\\b`)] as const);

/** The brand a display name claims when the sender's registrable domain does not carry it. */
export function impersonatedBrand(name: string, address: string): string | undefined {
  const n = name.toLowerCase();
  const domainPart = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
  const domain = (getDomain(domainPart) ?? domainPart).replace(/[-.]/g, '');
  return BRAND_MATCHERS.find(([b, re]) => re.test(n) && !domain.includes(b.replace(/ /g, '')))?.[0];
}

// "Dear jane@example.com," / "Hello jane@example.com": a bulk mailer filling in the only thing it knows.
const GREETS_ADDRESS =
  /\b(?:dear|hi|hello|hey|hallo|beste|ol[aá]|caro|cara|cher|ch[eè]re|estimado|estimada|prezado|prezada)(?:\(a\))?\s*,?\s{1,5}[^\s@,<>]{1,64}@[^\s@,<>]{1,255}/;
// A word that mixes Latin letters with Cyrillic or Greek ones (homoglyphs: "Amаzon" with a Cyrillic a),
// or styled Mathematical Alphanumeric letters used to dodge word filters.
const MIXED_SCRIPT =
  /(?=[\p{L}]*\p{Script=Latin})(?=[\p{L}]*[\p{Script=Cyrillic}\p{Script=Greek}])[\p{L}]{3,}/u;
// Its lookaheads rescan the rest of a word at every letter, the content scanner's dearest test; text
// without one Cyrillic or Greek character cannot match, and that is one native scan to tell.
const CYRILLIC_OR_GREEK = /[\p{Script=Cyrillic}\p{Script=Greek}]/u;
const MATH_LETTERS = /[\u{1D400}-\u{1D7FF}]/u;
// "Great rates                    93910": a batch token pushed out of sight by padding.
const SUBJECT_PADDED = /\S\s{6,}\S+\s*$/;
const SUBJECT_BAIT = /!!|\$\s?\d|\bfree\b/i;
// Warez spam (forums and mailing lists are flooded with it): a subject stuffed with piracy terms, and a
// body whose call to action is a download link. Both are needed: a list discussing a cracked cipher or
// announcing a download has only one. On the development corpus: 13 of 278 modern list spam, 0 of 6,624 ham.
const PIRACY_SUBJECT =
  /\b(?:key ?gens?|crack(?:ed|s)?|serial keys?|activation (?:key|code)s?|licen[cs]e keys?|full version|torrents?|dvdrip|blu-?ray|1080p|720p|full movie|free download|download free|(?:pdf|ebook|epub|mp3|zip|rar|apk) (?:free )?download|scaricare|descargar|t[ée]l[ée]charger)\b/i;
const DOWNLOAD_CALL =
  /(?:^|\n)[ \t*]*(?:download|get it|watch|click here|free download)\b[^\n]{0,30}(?:https?:\/\/|\n\s*https?:\/\/)/i;
// Text shrunk to nothing, so filters read words a person never sees. Bounded: one property match.
const HIDDEN_TEXT = /font-size\s*:\s*0(?:px|pt|em|%)?\s*[;"'}]/i;

export const content: Scanner = {
  name: 'content',
  family: 'CONTENT',
  async scan({ parsed }) {
    const out: Finding[] = [];
    const body = headAndTail(parsed.text);
    const haystack = phraseText(`${parsed.subject}\n${body}`);

    const spam = SPAM_MATCHERS.hits(haystack);
    if (spam.length >= SPAM_PHRASES_MIN) {
      const weight = Math.min(SPAM_PHRASES_MAX_POINTS, SPAM_PHRASE_POINTS * (spam.length - 1));
      out.push({ symbol: 'CONTENT_SPAM_PHRASES', weight, evidence: spam.slice(0, 6).join(', ') });
    }
    const urgent = URGENCY_MATCHERS.hits(haystack);
    if (urgent.length >= URGENCY_MIN)
      out.push({ symbol: 'CONTENT_URGENCY', evidence: urgent.slice(0, 6).join(', ') });

    const name = parsed.from?.name ?? '';
    const brand = name ? impersonatedBrand(name, parsed.from?.address ?? '') : undefined;
    if (brand) {
      out.push({
        symbol: 'CONTENT_BRAND_IMPERSONATION',
        evidence: `"${name.slice(0, 60)}" <${parsed.from?.address ?? ''}>`,
      });
    }
    // The greeting holds an address: no @, no greeting (and no regex run).
    const greeting = haystack.includes('@') ? GREETS_ADDRESS.exec(haystack) : null;
    if (greeting) out.push({ symbol: 'CONTENT_GREETS_ADDRESS', evidence: greeting[0].slice(0, 100) });
    const shown = `${name} ${parsed.subject} ${body.slice(0, 3000)}`;
    const mixed =
      (CYRILLIC_OR_GREEK.test(shown) ? MIXED_SCRIPT.exec(shown) : null) ??
      MATH_LETTERS.exec(`${name} ${parsed.subject}`);
    if (mixed) out.push({ symbol: 'CONTENT_OBFUSCATED_TEXT', evidence: mixed[0].slice(0, 60) });

    if (parsed.html && parsed.text.trim().length < LITTLE_TEXT_CHARS) {
      out.push({ symbol: 'CONTENT_IMAGE_ONLY', evidence: `${parsed.text.trim().length} chars of text` });
    } else if (parsed.htmlOnly) {
      out.push({ symbol: 'CONTENT_HTML_ONLY' });
    }
    if (SUBJECT_PADDED.test(parsed.subject))
      out.push({ symbol: 'CONTENT_SUBJECT_PADDED', evidence: parsed.subject.slice(0, 100) });
    const bait = SUBJECT_BAIT.exec(parsed.subject);
    if (bait) out.push({ symbol: 'CONTENT_SUBJECT_BAIT', evidence: bait[0] });
    const piracy = PIRACY_SUBJECT.exec(parsed.subject);
    const call = piracy && DOWNLOAD_CALL.exec(body.slice(0, 3000));
    if (piracy && call)
      out.push({
        symbol: 'CONTENT_DOWNLOAD_LURE',
        evidence: `${piracy[0]}; ${call[0].trim().replace(/\s+/g, ' ').slice(0, 60)}`,
      });
    const to = parsed.headers.find(([name]) => name === 'to')?.[1] ?? '';
    if (/undisclosed/i.test(to))
      out.push({ symbol: 'CONTENT_UNDISCLOSED_RECIPIENTS', evidence: to.slice(0, 80) });
    if (HIDDEN_TEXT.test(parsed.html)) out.push({ symbol: 'CONTENT_HIDDEN_TEXT' });
    if (isAllCaps(parsed.subject))
      out.push({ symbol: 'CONTENT_SUBJECT_ALL_CAPS', evidence: parsed.subject.slice(0, 100) });
    if (
      !parsed.subject.trim() &&
      !parsed.text.trim() &&
      !parsed.html.trim() &&
      parsed.attachments.length === 0
    ) {
      out.push({ symbol: 'CONTENT_EMPTY' });
    }
    return out;
  },
};
