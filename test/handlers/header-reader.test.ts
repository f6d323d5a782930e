// The header reader agrees with mailparser on what a header is, and what the gateway relays carries no
// outside X-SEG-* field and no outside Authentication-Results with our authserv-id under its own name,
// however the sender spaces, folds, cases, orders or pads them. Checked by parsing the relayed bytes with
// mailparser itself (what mail clients and downstream filters read).

import fc from 'fast-check';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { authservIdOf, headerValues, splitMessage } from '../../lambdas/contracts/header-block.ts';
import { buildOutgoingMessage, type VerdictHeaders } from '../../lambdas/handlers/outgoing-message.ts';

const AUTHSERV_ID = 'example.com';
const ours: VerdictHeaders = {
  action: 'tag',
  score: 7,
  symbols: ['GTUBE'],
  authservId: AUTHSERV_ID,
  authResults: `${AUTHSERV_ID}; spf=fail smtp.mailfrom=evil.example`,
  subjectTag: '[SPAM]',
};

/** mailparser's view of a message: every header line as (key, raw line). */
async function mailparserLines(raw: Uint8Array) {
  const parsed = await simpleParser(Buffer.from(raw), { skipHtmlToText: true, skipTextToHtml: true });
  return parsed.headerLines.map((l) => ({ key: l.key, value: l.line.slice(l.line.indexOf(':') + 1) }));
}

/** The authserv-id a reader finds, written independently of the module under test. */
const claimedId = (value: string) =>
  value
    .replace(/\([^()]*\)/g, ' ')
    .trim()
    .split(/[\s;]/)[0]
    ?.replace(/^"|"$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();

const forgedName = fc
  .constantFrom('X-SEG-Verdict', 'X-SEG-Score', 'X-SEG-Symbols', 'X-SEG-Released', 'Authentication-Results')
  .chain((name) =>
    fc
      .array(fc.boolean(), { minLength: name.length, maxLength: name.length })
      .map((upper) => [...name].map((c, i) => (upper[i] ? c.toUpperCase() : c.toLowerCase())).join('')),
  );
/** Whitespace a sender may put between the name and the colon, folded or not. */
const beforeColon = fc.constantFrom('', ' ', '  ', '\t', ' \t', '\r\n ', '\r\n\t');
const authValue = fc.constantFrom(
  `${AUTHSERV_ID}; spf=pass smtp.mailfrom=ceo@example.com`,
  `${AUTHSERV_ID} 1; dkim=pass header.d=example.com`,
  `${AUTHSERV_ID} (comment); dmarc=pass`,
  `(leading comment) ${AUTHSERV_ID}; spf=pass`,
  `"${AUTHSERV_ID}"; spf=pass`,
  `${AUTHSERV_ID.toUpperCase()}.; spf=pass`,
  `${AUTHSERV_ID};\r\n\tspf=pass`,
);
const verdictValue = fc.constantFrom('deliver', '-100', 'NONE', 'deliver\r\n (folded)');
const forged = fc
  .record({ name: forgedName, gap: beforeColon, auth: authValue, other: verdictValue })
  .map(
    ({ name, gap, auth, other }) =>
      `${name}${gap}:${name.toLowerCase() === 'authentication-results' ? ` ${auth}` : ` ${other}`}`,
  );
const benign = fc.constantFrom(
  'From: Mallory <mallory@evil.example>',
  'To: alice@example.com',
  'Subject: =?utf-8?q?Urgent_wire?=',
  'Subject : second subject',
  'Message-ID: <m@evil.example>',
  'Received: from evil.example by mx.evil.example;\r\n Sat, 28 Nov 2026 10:00:00 +0000',
  'Authentication-Results: other.example; spf=pass',
  'X-Mailer: hostile 1.0',
);
/** A header that pushes what follows past the first 256 KB. */
const padding = fc.constantFrom(
  `X-Padding: ${'a'.repeat(300 * 1024)}`,
  `X-Folded-Padding: ${'b '.repeat(140 * 1024)}`,
);

const message = fc
  .record({
    before: fc.array(fc.oneof(forged, benign), { maxLength: 6 }),
    pad: fc.option(padding, { freq: 4 }),
    after: fc.array(fc.oneof(forged, benign), { minLength: 1, maxLength: 6 }),
    lf: fc.boolean(),
  })
  .map(({ before, pad, after, lf }) => {
    const lines = [...before, ...(pad ? [pad] : []), ...after, 'Subject: hello', ''].join('\r\n');
    const text = `${lines}\r\nbody line\r\n`;
    return new Uint8Array(Buffer.from(lf ? text.replace(/\r\n/g, '\n') : text, 'latin1'));
  });

describe('the header reader', () => {
  it('keys `Name : value`, folded names and mixed case as mailparser does', async () => {
    const raw = new Uint8Array(
      Buffer.from('X-SEG-Verdict : deliver\r\nSUBJECT\t: one\r\nX-Other\r\n : x\r\nSubject: two\r\n\r\nbody'),
    );
    const keys = splitMessage(raw).fields.map((f) => f.key);
    expect(keys).toEqual((await mailparserLines(raw)).map((l) => l.key));
    expect(headerValues(raw, 'subject')).toEqual(['one', 'two']);
  });

  it('reads the authserv-id of every RFC 8601 form', () => {
    for (const value of [
      'example.com 1; spf=pass',
      'example.com (comment); spf=pass',
      '(c) example.com; spf=pass',
      '"example.com"; none',
      'EXAMPLE.COM.; none',
    ])
      expect(authservIdOf(value), value).toBe('example.com');
    expect(authservIdOf('example.com.evil; none')).toBe('example.com.evil');
  });

  it('leaves no outside X-SEG-* or our-id Authentication-Results unrenamed, whatever the spacing, folding, case, size or order', async () => {
    await fc.assert(
      fc.asyncProperty(message, async (raw) => {
        // The same field list as mailparser, key for key.
        const lines = await mailparserLines(raw);
        expect(splitMessage(raw).fields.map((f) => f.key)).toEqual(lines.map((l) => l.key));

        const out = await mailparserLines(buildOutgoingMessage(raw, ours));
        const seg = out.filter((l) => l.key.startsWith('x-seg-') && !l.key.startsWith('x-seg-untrusted-'));
        expect(seg.map((l) => l.key)).toEqual(['x-seg-verdict', 'x-seg-score', 'x-seg-symbols']);
        expect(seg[0]?.value.trim()).toBe('tag');
        const auth = out.filter(
          (l) => l.key === 'authentication-results' && claimedId(l.value) === AUTHSERV_ID,
        );
        expect(auth).toHaveLength(1);
        expect(auth[0]?.value).toContain('spf=fail');
        // The Subject is tagged in place: never a second Subject added.
        const subjects = out.filter((l) => l.key === 'subject');
        expect(subjects.length).toBe(lines.filter((l) => l.key === 'subject').length);
      }),
      { numRuns: 150 },
    );
  }, 120_000);
});
