// Known-bad URL and domain feeds as an in-memory index. Pure: it parses feed text and answers
// lookups; reading feed files from disk is the caller's job (lambdas/adapters/local/url-feeds.ts).

import { getDomain } from 'tldts';

/** Known-bad registrable domains, host names and exact URLs, with the feed each came from. */
export interface UrlFeeds {
  readonly domains: ReadonlyMap<string, string>;
  readonly urls: ReadonlyMap<string, string>;
}

export const EMPTY_FEEDS: UrlFeeds = { domains: new Map(), urls: new Map() };

/** A URL for exact matching: lowercase scheme and host, no fragment, no trailing slash. */
export function normalizeUrl(href: string): string | undefined {
  try {
    const u = new URL(href.trim());
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    u.hash = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return undefined;
  }
}

/** One feed line as a URL or a host name, or undefined for comments, blanks and junk. */
export function feedEntry(line: string): { url: string } | { host: string } | undefined {
  const t = line.replace(/#.*/, '').trim();
  if (!t || /\s/.test(t) || t.length > 2048) return undefined;
  if (/^https?:\/\//i.test(t)) {
    const url = normalizeUrl(t);
    return url ? { url } : undefined;
  }
  const host = t.toLowerCase().replace(/^\*\./, '').replace(/\.$/, '');
  return /^(?:[a-z0-9-]{1,63}\.)+[a-z0-9-]{2,63}$/.test(host) ? { host } : undefined;
}

/** Builds the index from feed texts (name -> content). Later feeds do not replace earlier names. */
export function buildFeeds(texts: Iterable<readonly [string, string]>): UrlFeeds {
  const domains = new Map<string, string>();
  const urls = new Map<string, string>();
  for (const [name, text] of texts) {
    for (const line of text.split('\n')) {
      const e = feedEntry(line);
      if (!e) continue;
      if ('url' in e) {
        if (!urls.has(e.url)) urls.set(e.url, name);
      } else if (!domains.has(e.host)) domains.set(e.host, name);
    }
  }
  return { domains, urls };
}

/** The feed that lists this link (its exact URL, its host or its registrable domain), if any. */
export function feedListing(feeds: UrlFeeds, href: string, host: string): string | undefined {
  if (feeds.domains.size) {
    // The host and each parent down to the registrable domain: a listed domain covers its subdomains.
    const domain = getDomain(host) ?? host;
    for (let h = host; h.length >= domain.length; h = h.slice(h.indexOf('.') + 1)) {
      const name = feeds.domains.get(h);
      if (name) return `${name}: ${h}`;
      if (!h.includes('.')) break;
    }
  }
  if (feeds.urls.size) {
    const url = normalizeUrl(href);
    const byUrl = url ? feeds.urls.get(url) : undefined;
    if (byUrl) return `${byUrl}: ${url}`;
  }
  return undefined;
}
