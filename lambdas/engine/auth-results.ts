// The RFC 8601 Authentication-Results header value that delivery prepends, from the AUTH findings.
// Pure formatting, apart from the auth scanner, so the delivering functions do not bundle mailauth.

import type { SymbolName } from './symbols.ts';
import type { Finding } from './types.ts';

/** Drops what could break out of a header token or comment. */
export const clean = (s: string | undefined): string => (s ?? '').replace(/[\r\n;"\\()]/g, '').trim();

/** `ptype.property=value` at most: an address is at most 254 characters (RFC 5321 4.5.3.1.3). */
const MAX_PROPERTY_CHARS = 300;

const METHOD_RESULT: Partial<Record<SymbolName, [string, string]>> = {
  SPF_PASS: ['spf', 'pass'],
  SPF_FAIL: ['spf', 'fail'],
  SPF_SOFTFAIL: ['spf', 'softfail'],
  SPF_NEUTRAL: ['spf', 'neutral'],
  SPF_NONE: ['spf', 'none'],
  SPF_TEMPERROR: ['spf', 'temperror'],
  SPF_PERMERROR: ['spf', 'permerror'],
  DKIM_PASS: ['dkim', 'pass'],
  DKIM_FAIL: ['dkim', 'fail'],
  DKIM_NONE: ['dkim', 'none'],
  DKIM_TEMPERROR: ['dkim', 'temperror'],
  DKIM_PERMERROR: ['dkim', 'permerror'],
  DMARC_PASS: ['dmarc', 'pass'],
  DMARC_FAIL_REJECT: ['dmarc', 'fail'],
  DMARC_FAIL_QUARANTINE: ['dmarc', 'fail'],
  DMARC_FAIL_NONE: ['dmarc', 'fail'],
  DMARC_NONE: ['dmarc', 'none'],
  DMARC_TEMPERROR: ['dmarc', 'temperror'],
  ARC_PASS: ['arc', 'pass'],
  ARC_FAIL: ['arc', 'fail'],
};

/**
 * The RFC 8601 Authentication-Results header value (without the field name) for the AUTH findings,
 * e.g. `mx.example.com; spf=pass smtp.mailfrom=a@b.example; dkim=none; dmarc=none header.from=b.example`.
 */
export function authResultsHeader(hostname: string, findings: readonly Finding[]): string {
  const rows = findings.flatMap((f) => {
    const mr = METHOD_RESULT[f.symbol];
    if (!mr) return [];
    // Only `ptype.property=value` tokens belong in the header; free-text evidence stays in the trace.
    // A value over MAX_PROPERTY_CHARS is no domain, selector or address: it stays in the trace only, so
    // the header (one row per method) stays bounded and can travel in the workflow state.
    const ev = (f.evidence ?? '')
      .split(/\s+/)
      .filter((t) => t.length <= MAX_PROPERTY_CHARS && /^[a-z]+\.[a-z-]+=[^\s;()"\\]+$/i.test(t))
      .join(' ');
    return [`${mr[0]}=${mr[1]}${ev ? ` ${ev}` : ''}`];
  });
  const authserv = clean(hostname).replace(/\s/g, '') || 'localhost';
  return rows.length ? `${authserv}; ${rows.join('; ')}` : `${authserv}; none`;
}
