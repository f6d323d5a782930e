// SPF, DKIM, DMARC and ARC through mailauth (../mail-auth.ts), with the DNS resolver injected from
// the context, mapped to SPF_*/DKIM_*/DMARC_*/ARC_* symbols (RFC 8601 result words). The
// Authentication-Results header is built by ../auth-results.ts, apart, so delivery does not load
// mailauth. It sends no mail and seals nothing.

import type { DnsResolver } from '../../ports/index.ts';
import { clean } from '../auth-results.ts';
import { type AuthResults, authenticateMessage } from '../mail-auth.ts';

export { mailauthLineBreaks } from '../mail-auth.ts';

import type { ScanContext, Scanner } from '../scanner.ts';
import type { SymbolName } from '../symbols.ts';
import type { Finding } from '../types.ts';
import { sesAnsweredMethods } from './ses-verdicts.ts';

export { authResultsHeader } from '../auth-results.ts';

/** An error a resolver throws to say "DNS was deliberately not consulted" (see offlineResolver). */
export function isOfflineError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { offline?: unknown }).offline === true;
}

/** The header value's characters are limited: property values never carry separators or line breaks. */

const props = (...pairs: [string, string | undefined][]): string =>
  pairs
    .filter(([, v]) => clean(v))
    .map(([k, v]) => `${k}=${clean(v)}`)
    .join(' ');

function spfFinding(spf: AuthResults['spf'], offline: boolean): Finding | undefined {
  if (!spf) return undefined;
  const r = spf.status.result;
  const evidence = props(['smtp.mailfrom', spf['envelope-from']]);
  if (offline && (r === 'none' || r === 'temperror' || r === 'neutral'))
    return { symbol: 'SPF_TEMPERROR', evidence };
  const map: Record<string, SymbolName> = {
    pass: 'SPF_PASS',
    fail: 'SPF_FAIL',
    softfail: 'SPF_SOFTFAIL',
    neutral: 'SPF_NEUTRAL',
    none: 'SPF_NONE',
    temperror: 'SPF_TEMPERROR',
    permerror: 'SPF_PERMERROR',
  };
  const symbol = map[r];
  return symbol ? { symbol, evidence } : undefined;
}

/** The first result of these words. */
function firstWith(results: AuthResults['dkim']['results'], ...words: string[]) {
  return results.find((x) => words.includes(x.status.result));
}

function dkimFinding(dkim: AuthResults['dkim'], offline: boolean): Finding {
  const results = (dkim?.results ?? []).filter((x) => x.status?.result && x.status.result !== 'none');
  if (!results.length) return { symbol: 'DKIM_NONE' };
  const pass = firstWith(results, 'pass');
  if (pass)
    return {
      symbol: 'DKIM_PASS',
      evidence: props(['header.d', pass.signingDomain], ['header.s', pass.selector]),
    };
  // mailauth reports a body hash mismatch as neutral; RFC 6376 6.3 calls it a failed signature.
  const fail =
    firstWith(results, 'fail') ??
    results.find((x) => /body hash did not verify/.test(String(x.status.comment ?? '')));
  if (fail)
    return {
      symbol: 'DKIM_FAIL',
      evidence: props(['header.d', fail.signingDomain], ['header.s', fail.selector]),
    };
  const first = results[0]!;
  const evidence = props(['header.d', first.signingDomain], ['header.s', first.selector]);
  // mailauth says "neutral" when the key is missing or the signature is unusable; when DNS was
  // not consulted at all, that only means "could not check".
  if (offline || first.status.result === 'temperror' || first.status.result === 'temperr') {
    return { symbol: 'DKIM_TEMPERROR', evidence };
  }
  return { symbol: 'DKIM_PERMERROR', evidence };
}

function dmarcFinding(dmarc: AuthResults['dmarc'], offline: boolean): Finding | undefined {
  if (!dmarc) return undefined;
  const r = dmarc.status.result;
  const evidence = props(['header.from', dmarc.status.header?.from ?? dmarc.domain]);
  if (r === 'pass') return { symbol: 'DMARC_PASS', evidence };
  if (r === 'fail') {
    const p = String(dmarc.policy ?? dmarc.p ?? 'none').toLowerCase();
    const symbol =
      p === 'reject' ? 'DMARC_FAIL_REJECT' : p === 'quarantine' ? 'DMARC_FAIL_QUARANTINE' : 'DMARC_FAIL_NONE';
    return { symbol, evidence: `${evidence} policy.dmarc=${p}` };
  }
  if (offline || r === 'temperror') return { symbol: 'DMARC_TEMPERROR', evidence };
  if (r === 'none') return { symbol: 'DMARC_NONE', evidence };
  return undefined;
}

function arcFinding(arc: AuthResults['arc'], offline: boolean): Finding | undefined {
  if (!arc) return undefined;
  if (arc.status.result === 'pass') return { symbol: 'ARC_PASS' };
  // Without DNS the seal keys were never fetched: that is not a broken chain.
  if (offline) return undefined;
  if (arc.status.result === 'fail')
    return { symbol: 'ARC_FAIL', evidence: clean(arc.status.comment).slice(0, 200) };
  return undefined;
}

/**
 * ctx.resolver, noting in `dns` when it says it was not consulted, and stopping once the scanner's
 * time is up (mailauth turns the rejection into temperror).
 */
function watchedResolver(ctx: ScanContext, dns: { offline: boolean }): DnsResolver {
  return async (name, rrtype) => {
    if (ctx.signal.aborted) throw Object.assign(new Error('scanner timed out'), { code: 'ETIMEOUT' });
    try {
      return await ctx.resolver(name, rrtype);
    } catch (err) {
      if (isOfflineError(err)) dns.offline = true;
      throw err;
    }
  };
}

export const auth: Scanner = {
  name: 'auth',
  family: 'AUTH',
  reads: 'raw',
  async scan({ raw, envelope, ses }, ctx) {
    const dns = { offline: false };
    const res = await authenticateMessage(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength), {
      resolver: watchedResolver(ctx, dns) as never,
      ...(envelope.remoteIp ? { ip: envelope.remoteIp } : {}),
      ...(envelope.helo ? { helo: envelope.helo } : {}),
      ...(envelope.mailFrom ? { sender: envelope.mailFrom } : {}),
      mta: 'seg',
      // Without the client IP there is nothing for SPF to check; a verdict would be invented.
      spfOnlyWithIp: true,
    });
    const { offline } = dns;
    const spf = envelope.remoteIp ? spfFinding(res.spf, offline) : undefined;
    // A method SES already answered is left to the ses-verdicts scanner: SES saw the SMTP session
    // itself, while we rebuild the client from its Received header, and one answer must not count twice.
    const answeredBySes = new Set(sesAnsweredMethods(ses));
    return [
      answeredBySes.has('spf') ? undefined : spf,
      answeredBySes.has('dkim') ? undefined : dkimFinding(res.dkim, offline),
      answeredBySes.has('dmarc') ? undefined : dmarcFinding(res.dmarc, offline),
      arcFinding(res.arc, offline),
    ].filter((f): f is Finding => f !== undefined);
  },
};
