// Allow and block lists from the config: full addresses, domains, or `*.domain` (the domain and its
// subdomains). Matches the header From address and the envelope MAIL FROM; block wins over allow.
// It does not judge whether the sender is authentic: decide() keeps malware and GTUBE un-allowable.

import type { Scanner } from '../scanner.ts';

/** True when `address` (lowercase) matches one list entry. A bare `domain` matches only that domain. */
export function matchesEntry(address: string, entry: string): boolean {
  const e = entry.trim().toLowerCase();
  if (!e) return false;
  if (e.includes('@')) return address === e;
  const domain = address.slice(address.lastIndexOf('@') + 1);
  if (e.startsWith('*.')) {
    const base = e.slice(2);
    return domain === base || domain.endsWith(`.${base}`);
  }
  return domain === e;
}

function firstMatch(addresses: readonly string[], entries: readonly string[]): string | undefined {
  for (const a of addresses) {
    const hit = entries.find((e) => matchesEntry(a, e));
    if (hit) return `${a} matches ${hit}`;
  }
  return undefined;
}

export const lists: Scanner = {
  name: 'lists',
  family: 'LIST',
  async scan({ parsed, envelope }, ctx) {
    const addresses = [parsed.from?.address, envelope.mailFrom]
      .map((a) => (a ?? '').trim().toLowerCase().replace(/^<|>$/g, ''))
      .filter((a) => a.includes('@'));
    if (!addresses.length) return [];
    const blocked = firstMatch(addresses, ctx.lists.block);
    if (blocked) return [{ symbol: 'LIST_SENDER_BLOCKED', evidence: blocked }];
    const allowed = firstMatch(addresses, ctx.lists.allow);
    return allowed ? [{ symbol: 'LIST_SENDER_ALLOWED', evidence: allowed }] : [];
  },
};
