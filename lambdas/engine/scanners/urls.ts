// Link checks: visible text naming a different domain than the href, IP and numeric hosts, look-alikes
// of protected domains and of well-known brands (homoglyphs, typos), brands in the subdomains or paths
// of unrelated domains, shorteners and redirects, data: and javascript: URIs, password forms posting
// elsewhere, known-bad feeds and optional DNS blocklists. It never fetches a URL; DNS only through the
// injected resolver and only when zones are configured. One finding per symbol, first offender as evidence.

import { getDomain, getHostname, parse } from 'tldts';
import type { Detection } from '../../config/schema.ts';
import { feedListing } from '../feeds.ts';
import { BRAND_DOMAINS, isBrandDomain, lookalikeOfBrand, lookalikeOfProtected } from '../lookalike.ts';
import type { ScanContext, Scanner } from '../scanner.ts';
import type { Finding, ParsedLink } from '../types.ts';

// Short and explainable on purpose: the most used public shorteners. Weight is low (0.5) because
// legitimate mail uses them too.
const SHORTENERS = new Set([
  'bit.ly',
  'tinyurl.com',
  't.co',
  'goo.gl',
  'ow.ly',
  'is.gd',
  'buff.ly',
  'rebrand.ly',
  'cutt.ly',
  'shorturl.at',
  'rb.gy',
  't.ly',
  'tiny.cc',
  'bl.ink',
  's.id',
]);

// TLDs that anti-abuse reports (Spamhaus, Interisle) list as most abused relative to their size.
const SUSPICIOUS_TLDS = new Set([
  'top',
  'xyz',
  'tk',
  'ml',
  'ga',
  'cf',
  'gq',
  'zip',
  'mov',
  'click',
  'link',
  'work',
  'rest',
  'cyou',
  'icu',
  'buzz',
  'monster',
  'country',
  'kim',
  'sbs',
  'cfd',
]);

// More links than this is unusual for person-to-person mail; newsletters go above it, hence weight 0.5.
const MANY_LINKS = 60;
const EVIDENCE_CHARS = 200;
// Query parameters read per link when looking for a redirect target: trackers use a handful.
const MAX_PARAMS = 30;
// Distinct registrable domains given the per-domain checks (look-alikes, feeds): bounded work whatever
// the link count; parse keeps one link per new host past its first 1000, so this is the real cap.
const MAX_DOMAINS = 2000;

const evidence = (url: string): string =>
  url.length > EVIDENCE_CHARS ? `${url.slice(0, EVIDENCE_CHARS)}...` : url;

// A domain-looking token in anchor text, e.g. "www.paypal.com" or "https://bank.example/login".
const TEXT_DOMAIN =
  /(?:https?:\/\/)?((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.){1,10}[a-z]{2,24})(?![a-z0-9-])/i;

/** The registrable domain the visible text claims, when the text looks like a URL or host name. */
function claimedDomain(text: string): string | undefined {
  const t = text.trim();
  // Only anchor text that is itself a URL or host counts; prose like "click here" claims nothing.
  if (t.length > 200 || /\s/.test(t)) return undefined;
  const m = TEXT_DOMAIN.exec(t);
  if (!m?.[1]) return undefined;
  return getDomain(m[1]) ?? undefined;
}

// Brand names whose appearance as a whole token in the subdomain or path of an unrelated domain is a
// lure ("paypal.com.account-check.example", "example.net/microsoft/login"). Everyday words (apple,
// chase, outlook) and short names are left out: they occur in ordinary URLs.
const BRAND_TOKENS = new Set(
  Object.keys(BRAND_DOMAINS).filter(
    (b) => b.length >= 5 && !['apple', 'chase', 'outlook', 'google', 'adobe'].includes(b),
  ),
);
// Outer hosts whose redirect parameters phishers borrow because mail filters trust the brand.
const TRUSTED_REDIRECTORS = new Set([
  ...Object.values(BRAND_DOMAINS).flat(),
  'google.com',
  'youtube.com',
  'bing.com',
]);
// Dotted-decimal IPv4; any other all-numeric or hex host (3232235777, 0xC0A80001, 0300.0250.0.1) is a disguise.
const DOTTED_QUAD = /^\d{1,3}(?:\.\d{1,3}){3}$/;
const SCHEME = /^([a-z][a-z0-9+.-]{0,31}):/i;
const REDIRECT_TARGET = /^(?:https?:)?\/\/([^/?#\\\s]{1,255})/i;

function tokens(s: string): string[] {
  return s.toLowerCase().split(/[^a-z0-9]+/);
}

/** The registrable domain a query parameter sends the reader to, when it differs from the link's own. */
function redirectTarget(href: string, domain: string): string | undefined {
  const q = href.indexOf('?');
  if (q < 0) return undefined;
  const params = href
    .slice(q + 1, href.indexOf('#', q) > 0 ? href.indexOf('#', q) : undefined)
    .split('&', MAX_PARAMS);
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    let value = p.slice(eq + 1, eq + 1 + 600);
    if (value.includes('%')) {
      try {
        value = decodeURIComponent(value);
      } catch {
        continue;
      }
    }
    const host = REDIRECT_TARGET.exec(value)?.[1];
    const target = host ? getDomain(host.slice(host.lastIndexOf('@') + 1)) : undefined;
    if (target && target !== domain) return target;
  }
  return undefined;
}

/** Domain blocklist lookups (`<domain>.<zone>` A records) through the injected resolver, each timed out. */
async function dnsblListing(
  domains: readonly string[],
  dnsbl: Detection['dnsbl'],
  ctx: ScanContext,
): Promise<string | undefined> {
  const lookups = domains.slice(0, dnsbl.maxLookups).flatMap((d) => dnsbl.zones.map((z) => [d, z] as const));
  const answers = await Promise.all(
    lookups.map(async ([domain, zone]) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<undefined>((resolve) => {
        timer = setTimeout(resolve, dnsbl.timeoutMs, undefined);
      });
      try {
        const answer = await Promise.race([ctx.resolver(`${domain}.${zone}`, 'A'), timeout]);
        // 127.0.0.x: listed. 127.255.255.x: the zone refusing the query (Spamhaus return codes), not a listing.
        const listed = Array.isArray(answer) && answer.some((a) => /^127\.0\.[01]\.\d+$/.test(String(a)));
        return listed ? `${domain} in ${zone}` : undefined;
      } catch {
        return undefined;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return answers.find((a) => a !== undefined);
}

/** What one scan collects: the first offender per symbol, and the registrable domains checked. */
interface UrlScan {
  readonly found: Map<Finding['symbol'], string>;
  readonly ownDomains: ReadonlySet<string>;
  readonly checked: Set<string>;
  readonly ctx: ScanContext;
}

// Module functions, not closures made per scan (under tsx each named closure costs its naming).
function noteOnce(scan: UrlScan, symbol: Finding['symbol'], url: string): void {
  if (!scan.found.has(symbol)) scan.found.set(symbol, evidence(url));
}

/** The checks of one http(s) link. */
function checkHttp(scan: UrlScan, link: ParsedLink, href: string): void {
  const { ownDomains, checked, ctx } = scan;
  const info = parse(href);
  const host = (info.hostname ?? '').toLowerCase();
  if (!host) return;
  if (info.isIp) {
    noteOnce(scan, DOTTED_QUAD.test(host) || host.includes(':') ? 'URL_IP_HOST' : 'URL_NUMERIC_HOST', href);
  }
  const domain = info.domain ?? '';
  if (SHORTENERS.has(host) || (domain && SHORTENERS.has(domain) && host === domain))
    noteOnce(scan, 'URL_SHORTENER', href);
  if (info.publicSuffix && SUSPICIOUS_TLDS.has(info.publicSuffix)) noteOnce(scan, 'URL_SUSPICIOUS_TLD', href);
  if (/^(?:https?:)?\/\/[^/?#]*@/i.test(href)) noteOnce(scan, 'URL_CREDENTIALS', href);
  if (host.split('.').some((label) => label.startsWith('xn--'))) noteOnce(scan, 'URL_PUNYCODE', href);
  if (link.text && !info.isIp) {
    const claimed = claimedDomain(link.text);
    const actual = domain || getDomain(getHostname(href) ?? '');
    if (claimed && actual && claimed !== actual)
      noteOnce(scan, 'URL_HREF_TEXT_MISMATCH', `${link.text.slice(0, 80)} -> ${href}`);
  }
  if (link.source === 'form' && link.password && !ownDomains.has(domain))
    noteOnce(scan, 'URL_PASSWORD_FORM', link.attachment ? `${href} (in ${link.attachment})` : href);
  if (ctx.feeds) {
    const listed = feedListing(ctx.feeds, href, host);
    if (listed) noteOnce(scan, 'URL_FEED_LISTED', listed);
  }
  if (!domain) return;
  const brandOwned = isBrandDomain(domain);
  const target = redirectTarget(href, domain);
  if (target)
    noteOnce(scan, TRUSTED_REDIRECTORS.has(domain) ? 'URL_OPEN_REDIRECT' : 'URL_REDIRECT_PARAM', href);
  if (!brandOwned && !ownDomains.has(domain)) {
    const sub = info.subdomain ?? '';
    if (sub && tokens(sub).some((t) => BRAND_TOKENS.has(t))) noteOnce(scan, 'URL_BRAND_IN_HOST', href);
    const lower = href.toLowerCase();
    const at = lower.indexOf(host) + host.length;
    const path = lower.slice(at, at + 300);
    if (tokens(path).some((t) => BRAND_TOKENS.has(t))) noteOnce(scan, 'URL_BRAND_IN_PATH', href);
  }
  if (checked.has(domain) || checked.size >= MAX_DOMAINS) return;
  checked.add(domain);
  // No TLD swaps for links: organisations link to their own sister domains (example.org for example.com).
  const mimic = lookalikeOfProtected(domain, ctx.protectedDomains, false);
  if (mimic) noteOnce(scan, 'URL_LOOKALIKE_PROTECTED', `${href} (${mimic.kind} of ${mimic.target})`);
  else if (!brandOwned) {
    const brand = lookalikeOfBrand(domain);
    if (brand) noteOnce(scan, 'URL_LOOKALIKE_BRAND', `${href} (${brand.kind} of ${brand.target})`);
  }
}

export const urls: Scanner = {
  name: 'urls',
  family: 'URL',
  async scan({ parsed }, ctx) {
    const found = new Map<Finding['symbol'], string>();
    const fromDomain = getDomain(parsed.from?.address?.slice(parsed.from.address.lastIndexOf('@') + 1) ?? '');
    const ownDomains = new Set([...ctx.protectedDomains, ...(fromDomain ? [fromDomain] : [])]);
    const checked = new Set<string>();
    const scan: UrlScan = { found, ownDomains, checked, ctx };

    for (const link of parsed.links) {
      const href = link.href;
      const scheme = SCHEME.exec(href)?.[1]?.toLowerCase();
      if (scheme === 'javascript' || scheme === 'vbscript') {
        noteOnce(scan, 'URL_JAVASCRIPT', href);
        continue;
      }
      if (scheme === 'data') {
        // Inline images are ordinary; a data: document a click or a frame opens is a page without a host.
        if ((link.source !== 'img' && link.source !== 'css') || /^data:\s*text\/html/i.test(href))
          noteOnce(scan, 'URL_DATA_URI', href);
        continue;
      }
      if (scheme !== 'http' && scheme !== 'https' && !(scheme === undefined && href.startsWith('//')))
        continue;
      checkHttp(scan, link, href);
    }

    const seen = parsed.linkCount ?? parsed.links.length;
    if (seen > MANY_LINKS) found.set('URL_MANY', `${seen} links`);
    const dnsbl = ctx.detection?.dnsbl;
    if (dnsbl?.zones.length && checked.size) {
      const listed = await dnsblListing([...checked], dnsbl, ctx);
      if (listed) found.set('URL_DNSBL_LISTED', listed);
    }
    return [...found].map(([symbol, ev]) => ({ symbol, evidence: ev }));
  },
};
