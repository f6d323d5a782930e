// Header anomalies that generalise across eras and senders: missing or malformed Date and Message-ID,
// a Date far from when our side received the message, several From headers, no From address. It
// reads the parsed header lines only. Upstream spam verdict headers (X-Spam-*) are never evidence.

import type { Scanner } from '../scanner.ts';
import type { Finding } from '../types.ts';

// A Date this far ahead of the receiving server's clock is forged (clock skew is minutes, not days).
const FUTURE_MS = 2 * 24 * 3600 * 1000;
// ...or this far behind it: a fresh message dated a year ago was predated to sort below the inbox fold.
const PAST_MS = 365 * 24 * 3600 * 1000;
const MESSAGE_ID = /^<[^<>\s@]{1,250}@[^<>\s@]{1,250}>$/;

/** The time in the topmost Received header (written by our side or the receiving MX), as epoch ms. */
function receivedAt(headers: readonly (readonly [string, string])[]): number | undefined {
  const top = headers.find(([name]) => name === 'received')?.[1];
  const stamp = top?.slice(top.lastIndexOf(';') + 1).trim();
  const ms = stamp ? Date.parse(stamp.replace(/\s*\([^)]*\)\s*$/, '')) : Number.NaN;
  return Number.isNaN(ms) ? undefined : ms;
}

// Module functions, not closures made per scan (under tsx each named closure costs its naming).
type HeaderLines = readonly (readonly [string, string])[];
const headerCount = (headers: HeaderLines, name: string): number =>
  headers.filter(([n]) => n === name).length;
const headerValue = (headers: HeaderLines, name: string): string | undefined =>
  headers.find(([n]) => n === name)?.[1];

export const headers: Scanner = {
  name: 'headers',
  family: 'HEADER',
  async scan({ parsed }) {
    const out: Finding[] = [];
    const date = headerValue(parsed.headers, 'date');
    // The header itself, not parsed.date: mailparser puts the current time in place of a bad Date.
    const sent = date === undefined ? Number.NaN : Date.parse(date.replace(/\s*\([^)]*\)\s*$/, ''));
    if (date === undefined) out.push({ symbol: 'HEADER_MISSING_DATE' });
    else if (Number.isNaN(sent)) out.push({ symbol: 'HEADER_DATE_MALFORMED', evidence: date.slice(0, 100) });
    else {
      const received = receivedAt(parsed.headers);
      if (received !== undefined && sent - received > FUTURE_MS)
        out.push({
          symbol: 'HEADER_DATE_FUTURE',
          evidence: `Date ${date.slice(0, 60)}, received ${new Date(received).toISOString()}`,
        });
      else if (received !== undefined && received - sent > PAST_MS)
        out.push({
          symbol: 'HEADER_DATE_PAST',
          evidence: `Date ${date.slice(0, 60)}, received ${new Date(received).toISOString()}`,
        });
    }

    const messageId = headerValue(parsed.headers, 'message-id');
    if (messageId === undefined) out.push({ symbol: 'HEADER_MISSING_MESSAGE_ID' });
    else if (!MESSAGE_ID.test(messageId.trim()))
      out.push({ symbol: 'HEADER_MESSAGE_ID_MALFORMED', evidence: messageId.slice(0, 100) });

    const froms = headerCount(parsed.headers, 'from');
    if (froms > 1) out.push({ symbol: 'HEADER_FROM_MULTIPLE', evidence: `${froms} From headers` });
    else if (!parsed.from?.address) out.push({ symbol: 'HEADER_FROM_MISSING' });
    return out;
  },
};
