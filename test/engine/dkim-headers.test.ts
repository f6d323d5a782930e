// The header side of a signature check gives what mailauth's own functions give, on random header
// fields: tag lists with folding, tabs, odd case, duplicate and empty tags, a missing `;`, quotes,
// comments, escapes and bytes past ASCII; signed-field lists naming a field twice or not at all.

import fc from 'fast-check';
import { generateCanonicalizedHeader } from 'mailauth/lib/dkim/header/index.js';
import { formatRelaxedLine, getSigningHeaderLines, parseDkimHeaders } from 'mailauth/lib/tools.js';
import { describe, expect, it } from 'vitest';
import {
  canonicalizedHeader,
  type HeaderRow,
  parseTagList,
  relaxedLine,
  rowsByName,
  signedRows,
} from '../../lambdas/engine/dkim-headers.ts';

/** Strings made of the pieces that decide a parse, joined; bytes kept as latin1 or as UTF-8. */
const text = (pieces: string[], maxLength = 30) =>
  fc.array(fc.constantFrom(...pieces), { maxLength }).map((parts) => parts.join(''));
const asBytes = (s: string, utf8: boolean) => Buffer.from(s, utf8 ? 'utf8' : 'latin1');

const tagName = fc.constantFrom(
  'v',
  'a',
  'b',
  'bh',
  'c',
  'd',
  'h',
  'i',
  'l',
  's',
  't',
  'x',
  'z',
  'cv',
  'B',
  ' D ',
  'b h',
  '',
  '__proto__',
  'constructor',
  'header',
  'value',
  '1',
  'dkim',
);
const tagValue = text([
  'a',
  'Z',
  '0',
  '9',
  '-',
  '.',
  ' ',
  '  ',
  '\t',
  '\r\n ',
  '\r\n\t',
  '\n ',
  '=',
  ':',
  '/',
  '+',
  'é',
  '€',
  '\u00a0',
  '\xff',
  'rsa-sha256',
  'relaxed/simple',
  '12',
  '1e3',
  '-1',
  '0x1f',
  'NaN',
  'Infinity',
]);
// A tag list, with the odd pieces a signature can carry: a bare word, no `=`, a stray `;`, escapes,
// quotes and comments (which mailauth's reader treats apart).
const tag = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(tagName, tagValue).map(([k, v]) => `${k}=${v}`) },
  { weight: 1, arbitrary: tagName },
  {
    weight: 1,
    arbitrary: fc.constantFrom('', ' ', '\r\n ', '=', '=x', '\\', '"q;b=1"', "'a'", '(c;d=2)', 'x=\\;'),
  },
);
const headerName = fc.constantFrom(
  'DKIM-Signature',
  'dkim-signature',
  'DKIM-SIGNATURE ',
  'ARC-Seal',
  'arc-message-signature',
  'ARC-Authentication-Results',
  'Authentication-Results',
  'X-Other',
  '',
  'Dkim Signature',
);
const tagList = fc
  .record({
    name: headerName,
    colon: fc.constantFrom(':', ':', ': ', ':\r\n ', ''),
    tags: fc.array(tag, { maxLength: 12 }),
    separator: fc.constantFrom(';', '; ', ';\r\n\t', ' ;'),
    end: fc.constantFrom('', ';', '; ', '\r\n'),
    utf8: fc.boolean(),
  })
  .map((r) => asBytes(`${r.name}${r.colon}${r.tags.join(r.separator)}${r.end}`, r.utf8));

/** The result with its keys in order and numbers as written: what the verifier's JSON shows. */
const shape = (value: unknown) =>
  JSON.stringify(value, (_k, v) => (typeof v === 'number' ? `n:${String(v)}` : v));

describe('parseTagList', () => {
  it("gives mailauth parseDkimHeaders()'s tags, in its key order, for any tag list", () => {
    fc.assert(
      fc.property(tagList, (line) => {
        const ours = parseTagList(line);
        const theirs = parseDkimHeaders(line);
        expect(ours.original).toBe(line);
        expect(ours.parsed).toStrictEqual(theirs.parsed);
        expect(shape(ours.parsed)).toBe(shape(theirs.parsed));
      }),
      { numRuns: 20000 },
    );
  });

  it('reads a DKIM-Signature: names lowercased, b= and h= without whitespace, numbers for t= and l=', () => {
    const { parsed } = parseTagList(
      Buffer.from(
        'DKIM-Signature: v=1; A=rsa-sha256; d=example.org;\r\n\th=From : To; t=17; l=x; b=ab\r\n cd;',
      ),
    );
    expect(parsed).toEqual({
      header: 'dkim-signature',
      v: { value: 1 },
      a: { value: 'rsa-sha256' },
      d: { value: 'example.org' },
      h: { value: 'From:To' },
      t: { value: 17 },
      l: { value: 'x' },
      b: { value: 'abcd' },
    });
  });
});

// Header bytes that relaxed canonicalization treats apart: every /\s/ character of latin1, breaks,
// colons, letters whose case changes, and a byte that is not whitespace to JavaScript (0x85).
const headerBytes = text(
  ['A', 'a', 'À', 'b', ':', ' ', ' ', '\t', '\r\n', '\r\n ', '\n', '\r', '\v', '\f', '\xa0', '\x85', '='],
  40,
).map((s) => Buffer.from(s, 'latin1'));

describe('relaxedLine', () => {
  it("gives mailauth formatRelaxedLine()'s bytes for any header", () => {
    fc.assert(
      fc.property(headerBytes, (line) => {
        expect(Buffer.from(relaxedLine(line), 'latin1')).toEqual(formatRelaxedLine(line));
      }),
      { numRuns: 20000 },
    );
  });
});

const row = fc
  .record({
    name: fc.constantFrom('From', 'from', 'To', 'Subject', 'SUBJECT', 'Date', 'X-A'),
    line: headerBytes,
  })
  .map(
    ({ name, line }): HeaderRow => ({
      key: name.toLowerCase(),
      casedKey: name,
      line: Buffer.concat([Buffer.from(`${name}:`), line]),
    }),
  );
const rows = fc.array(
  fc.oneof(
    { weight: 9, arbitrary: row },
    {
      weight: 1,
      arbitrary: fc.constant<HeaderRow>({ key: null, casedKey: undefined, line: Buffer.from(':x') }),
    },
  ),
  { maxLength: 10 },
);
// An h= list: names in any case, repeated, padded, missing from the message, empty between colons.
const hList = fc.oneof(
  fc
    .array(fc.constantFrom('from', 'From', ' to ', 'subject', 'SUBJECT', 'date', 'x-a', 'cc', ''), {
      maxLength: 10,
    })
    .map((n) => n.join(':')),
  fc.constant(undefined),
);

describe('signedRows', () => {
  it("gives mailauth getSigningHeaderLines()'s rows and names for any h= list", () => {
    fc.assert(
      fc.property(rows, hList, (r, h) => {
        const ours = signedRows(r, h);
        const theirs = getSigningHeaderLines(r, h, true);
        expect(ours.keys).toBe(theirs.keys);
        expect(ours.headers.map((x) => r.indexOf(x))).toEqual(theirs.headers.map((x) => r.indexOf(x)));
      }),
      { numRuns: 5000 },
    );
  });

  it('gives the same rows from one index of the rows shared by every signature of a message', () => {
    fc.assert(
      fc.property(rows, fc.array(hList, { maxLength: 4 }), (r, lists) => {
        const index = rowsByName(r);
        for (const h of lists) {
          const ours = signedRows(r, h, index);
          const theirs = getSigningHeaderLines(r, h, true);
          expect(ours.keys).toBe(theirs.keys);
          expect(ours.headers).toEqual(theirs.headers);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('canonicalizedHeader', () => {
  const canonicalization = fc.constantFrom(
    'relaxed/relaxed',
    'simple/simple',
    'relaxed/simple',
    'Relaxed',
    ' SIMPLE /x',
    '',
    'nonsense/simple',
  );
  const signature = fc
    .tuple(
      headerName,
      fc.array(tag, { maxLength: 6 }),
      fc.constantFrom('b=abc', ' b=', 'bh=x; b=y z', ';b=q;', 'xb=1'),
    )
    .map(([name, tags, b]) => Buffer.from(`${name}: ${[...tags, b].join('; ')}`, 'latin1'));

  it("gives mailauth generateCanonicalizedHeader()'s bytes, or its error, for any signed rows", () => {
    fc.assert(
      fc.property(rows, canonicalization, signature, fc.boolean(), (r, c, sig, remember) => {
        const signed = getSigningHeaderLines(r, undefined, false);
        let theirs: Buffer | string;
        try {
          theirs = generateCanonicalizedHeader('DKIM', signed, {
            signatureHeaderLine: sig,
            canonicalization: c,
          }).canonicalizedHeader;
        } catch (err) {
          theirs = (err as Error).message;
        }
        // The same rows canonicalized twice through one memory give the same bytes as without it.
        const memory = new Map<HeaderRow, string>();
        const relaxedOf = (x: HeaderRow) => memory.get(x) ?? memory.set(x, relaxedLine(x.line)).get(x)!;
        const run = () => {
          try {
            return remember
              ? canonicalizedHeader(c, signed.headers, sig, relaxedOf)
              : canonicalizedHeader(c, signed.headers, sig);
          } catch (err) {
            return (err as Error).message;
          }
        };
        expect(run()).toEqual(theirs);
        expect(run()).toEqual(theirs);
      }),
      { numRuns: 5000 },
    );
  });
});
