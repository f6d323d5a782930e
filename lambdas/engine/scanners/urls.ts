// Link checks: visible text naming a different domain than the href, bare-IP hosts, shorteners,
// abused TLDs, embedded credentials, punycode hosts, and too many links. It never fetches a URL.
// One finding per symbol, with the first offending URL as evidence.

import { getDomain, getHostname, parse } from 'tldts';
import type { Scanner } from '../scanner.ts';
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

function isHttp(href: string): boolean {
  return /^https?:\/\//i.test(href);
}

export const urls: Scanner = {
  name: 'urls',
  family: 'URL',
  async scan({ parsed }) {
    const found = new Map<Finding['symbol'], string>();
    const note = (symbol: Finding['symbol'], url: string): void => {
      if (!found.has(symbol)) found.set(symbol, evidence(url));
    };
    const httpLinks: ParsedLink[] = parsed.links.filter((l) => isHttp(l.href));
    for (const link of httpLinks) {
      const info = parse(link.href);
      const host = (info.hostname ?? '').toLowerCase();
      if (!host) continue;
      if (info.isIp) note('URL_IP_HOST', link.href);
      if (SHORTENERS.has(host) || (info.domain && SHORTENERS.has(info.domain) && host === info.domain)) {
        note('URL_SHORTENER', link.href);
      }
      if (info.publicSuffix && SUSPICIOUS_TLDS.has(info.publicSuffix)) note('URL_SUSPICIOUS_TLD', link.href);
      if (/^https?:\/\/[^/?#]*@/i.test(link.href)) note('URL_CREDENTIALS', link.href);
      if (host.split('.').some((label) => label.startsWith('xn--'))) note('URL_PUNYCODE', link.href);
      if (link.text && !info.isIp) {
        const claimed = claimedDomain(link.text);
        const actual = info.domain ?? getDomain(getHostname(link.href) ?? '');
        if (claimed && actual && claimed !== actual)
          note('URL_HREF_TEXT_MISMATCH', `${link.text.slice(0, 80)} -> ${link.href}`);
      }
    }
    if (parsed.links.length > MANY_LINKS) found.set('URL_MANY', `${parsed.links.length} links`);
    return [...found].map(([symbol, ev]) => ({ symbol, evidence: ev }));
  },
};
