// Look-alike domains: a skeleton mapping (confusable letters and digits folded to one Latin form, as
// Unicode TR39 "skeleton" does for the characters phishers use) plus a bounded edit distance. Shared by
// the URL and impersonation scanners. It does not decide weights; it only says what a domain imitates.

import { domainToUnicode } from 'node:url';
import { parse } from 'tldts';

// Confusables phishers use in domains: Cyrillic and Greek letters that render as Latin ones, digits
// that pass for letters, and Latin letters with marks (folded by NFKD below). Not the whole TR39 table:
// the characters seen in look-alike registrations, kept short enough to read.
const CONFUSABLES: Record<string, string> = {
  а: 'a',
  б: 'b',
  в: 'b',
  с: 'c',
  ԁ: 'd',
  е: 'e',
  ё: 'e',
  һ: 'h',
  і: 'i',
  ї: 'i',
  ј: 'j',
  к: 'k',
  ӏ: 'l',
  м: 'm',
  н: 'h',
  о: 'o',
  р: 'p',
  ԛ: 'q',
  ѕ: 's',
  т: 't',
  у: 'y',
  х: 'x',
  ԝ: 'w',
  ɡ: 'g',
  α: 'a',
  β: 'b',
  ε: 'e',
  ι: 'i',
  κ: 'k',
  ν: 'v',
  ο: 'o',
  ρ: 'p',
  τ: 't',
  υ: 'u',
  χ: 'x',
  ı: 'i',
  ł: 'l',
  ø: 'o',
  '0': 'o',
  '1': 'l',
  '3': 'e',
  '5': 's',
  '7': 't',
  '8': 'b',
  '@': 'a',
  $: 's',
  '!': 'l',
  '|': 'l',
};
const MARKS = /\p{M}/gu;

/** The skeleton of a domain label: confusables folded, marks dropped, 'rn' read as 'm', 'vv' as 'w', 'i' as 'l'. */
export function skeleton(label: string): string {
  let out = '';
  for (const ch of label.toLowerCase().normalize('NFKD').replace(MARKS, '')) out += CONFUSABLES[ch] ?? ch;
  return out.replace(/rn/g, 'm').replace(/vv/g, 'w').replace(/[i]/g, 'l');
}

/** Damerau-Levenshtein distance, or max + 1 as soon as it exceeds `max` (labels are at most 63 chars). */
export function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  if (a.length > 64 || b.length > 64) return a === b ? 0 : max + 1;
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, prev2[j - 2]! + 1);
      cur.push(v);
      rowMin = Math.min(rowMin, v);
    }
    if (rowMin > max) return max + 1;
    prev2 = prev;
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * Brands most impersonated in phishing (APWG and vendor reports), each with its label and the
 * registrable domains it really sends from. A domain whose label is the brand's own label is the
 * brand under any TLD (amazon.de, paypal.co.uk): country sites are the brand's, not look-alikes.
 */
export const BRAND_DOMAINS: Readonly<Record<string, readonly string[]>> = {
  paypal: ['paypal.com', 'paypal.me', 'paypalobjects.com', 'paypal-communication.com'],
  microsoft: [
    'microsoft.com',
    'live.com',
    'office.com',
    'outlook.com',
    'microsoftonline.com',
    'office365.com',
    'sharepoint.com',
    'onmicrosoft.com',
    'msn.com',
    'bing.com',
    'windows.net',
    'azure.com',
    'skype.com',
    'hotmail.com',
  ],
  office365: ['office365.com', 'office.com', 'microsoft.com'],
  outlook: ['outlook.com', 'live.com', 'microsoft.com', 'office.com'],
  apple: ['apple.com', 'icloud.com', 'me.com', 'mzstatic.com'],
  icloud: ['icloud.com', 'apple.com'],
  amazon: ['amazon.com', 'amazonaws.com', 'awstrack.me', 'media-amazon.com', 'a2z.com', 'amazonses.com'],
  netflix: ['netflix.com', 'nflxext.com', 'nflximg.net', 'netflix.net'],
  google: [
    'google.com',
    'gmail.com',
    'googleusercontent.com',
    'gstatic.com',
    'googleapis.com',
    'youtube.com',
  ],
  facebook: ['facebook.com', 'fb.com', 'facebookmail.com', 'fbcdn.net', 'meta.com'],
  instagram: ['instagram.com', 'facebookmail.com', 'cdninstagram.com'],
  whatsapp: ['whatsapp.com', 'whatsapp.net'],
  linkedin: ['linkedin.com', 'licdn.com', 'lnkd.in'],
  coinbase: ['coinbase.com'],
  binance: ['binance.com'],
  metamask: ['metamask.io'],
  docusign: ['docusign.com', 'docusign.net'],
  dropbox: ['dropbox.com', 'dropboxusercontent.com', 'dropboxmail.com'],
  adobe: ['adobe.com', 'adobesign.com', 'acrobat.com'],
  wellsfargo: ['wellsfargo.com', 'wf.com'],
  bankofamerica: ['bankofamerica.com', 'bofa.com'],
  americanexpress: ['americanexpress.com', 'aexp.com'],
  chase: ['chase.com', 'jpmorgan.com'],
  fedex: ['fedex.com'],
  usps: ['usps.com'],
  dhl: ['dhl.com', 'dhl.de'],
  ebay: ['ebay.com', 'ebayimg.com'],
  spotify: ['spotify.com', 'scdn.co'],
  bradesco: ['bradesco.com.br'],
  santander: ['santander.com', 'santander.com.br'],
  nubank: ['nubank.com.br'],
  itau: ['itau.com.br'],
};

/** How a domain imitates a target: same skeleton (homoglyphs), a typo (edit distance), or another TLD. */
export type LookalikeKind = 'homoglyph' | 'typo' | 'tld-swap';

export interface Lookalike {
  readonly kind: LookalikeKind;
  /** The domain (or brand) imitated. */
  readonly target: string;
}

interface Split {
  readonly label: string;
  readonly suffix: string;
}

/** What the checks read of a domain: its label and suffix, its label without the suffix as tldts gives it. */
interface Reading {
  readonly split: Split | undefined;
  readonly withoutSuffix: string;
  /** The label's skeleton, made when first asked for. */
  skeleton?: string;
  /** lookalikeOfBrand's answer (null: none), found when first asked for: it compares with every brand. */
  brand?: Lookalike | null;
}

// Readings kept across messages: every link domain is compared with every protected domain and brand,
// and the same few domains (the protected ones, the big senders') come back in message after message.
// Each is a pure function of the name; the map is emptied when full, so memory stays bounded.
const readings = new Map<string, Reading>();
const MAX_READINGS = 10_000;

function reading(domain: string): Reading {
  let r = readings.get(domain);
  if (r) return r;
  const info = parse(domain);
  r = {
    split:
      info.domainWithoutSuffix && info.publicSuffix
        ? {
            label: domainToUnicode(info.domainWithoutSuffix) || info.domainWithoutSuffix,
            suffix: info.publicSuffix,
          }
        : undefined,
    withoutSuffix: info.domainWithoutSuffix ?? '',
  };
  if (readings.size >= MAX_READINGS) readings.clear();
  readings.set(domain, r);
  return r;
}

const split = (domain: string): Split | undefined => reading(domain).split;

/** The skeleton of the label of a domain read with a split. */
function labelSkeleton(r: Reading, label: string): string {
  r.skeleton ??= skeleton(label);
  return r.skeleton;
}

/** The label part of a registrable domain, Unicode-decoded (xn-- labels read as what they render). */
export function domainLabel(domain: string): string | undefined {
  return split(domain)?.label;
}

/**
 * Whether registrable domain `domain` imitates `target` without being it. Typos count only for
 * labels of 5+ letters, where one edit is rarely innocent; TLD swaps only when `tldSwap` is set.
 */
export function imitates(domain: string, target: string, tldSwap: boolean): LookalikeKind | undefined {
  if (domain === target) return undefined;
  const dr = reading(domain);
  const tr = reading(target);
  const d = dr.split;
  const t = tr.split;
  if (!d || !t) return undefined;
  if (d.label === t.label) return tldSwap && d.suffix !== t.suffix ? 'tld-swap' : undefined;
  const ds = labelSkeleton(dr, d.label);
  const ts = labelSkeleton(tr, t.label);
  if (ds === ts) return 'homoglyph';
  if (ts.length >= 5 && editDistance(ds, ts, 1) <= 1) return 'typo';
  return undefined;
}

/** The protected domain `domain` imitates, if any; TLD swaps only when `tldSwap` is set. */
export function lookalikeOfProtected(
  domain: string,
  protectedDomains: readonly string[],
  tldSwap: boolean,
): Lookalike | undefined {
  if (protectedDomains.includes(domain)) return undefined;
  for (const target of protectedDomains) {
    const kind = imitates(domain, target, tldSwap);
    if (kind) return { kind, target };
  }
  return undefined;
}

/** The brand whose label `domain`'s label imitates (not the brand's own label under any TLD). */
export function lookalikeOfBrand(domain: string): Lookalike | undefined {
  const r = reading(domain);
  if (r.brand === undefined) r.brand = brandImitated(domain, r) ?? null;
  return r.brand ?? undefined;
}

function brandImitated(domain: string, r: Reading): Lookalike | undefined {
  const d = r.split;
  if (!d) return undefined;
  if (isBrandDomain(domain)) return undefined;
  const ds = labelSkeleton(r, d.label);
  brandSkeletons ??= Object.keys(BRAND_DOMAINS).map((brand) => [brand, skeleton(brand)] as const);
  for (const [brand, bs] of brandSkeletons) {
    if (d.label === brand) return undefined;
    if (ds === bs) return { kind: 'homoglyph', target: brand };
    if (brand.length >= 6 && editDistance(ds, bs, 1) <= 1) return { kind: 'typo', target: brand };
  }
  return undefined;
}
// Each brand's skeleton, made once (every link's domain is compared with every brand).
let brandSkeletons: readonly (readonly [string, string])[] | undefined;

const OFFICIAL = new Set(Object.values(BRAND_DOMAINS).flat());
const BRAND_LABELS = new Set(Object.keys(BRAND_DOMAINS));

/** Whether a registrable domain belongs to one of the brands (its own domains, or its label under any TLD). */
export function isBrandDomain(domain: string): boolean {
  if (OFFICIAL.has(domain)) return true;
  return BRAND_LABELS.has(reading(domain).withoutSuffix);
}
