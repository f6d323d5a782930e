import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Base64Runs,
  base64Kept,
  base64LinePrefixes,
  base64Text,
  base64WholeQuads,
  changesUuencode,
  decodeBase64,
  decodeBase64Runs,
  decodeQuotedPrintable,
  decodeUuencode,
  isPlainBase64,
  type QpBadEscape,
  quotedPrintableReadings,
} from '../../../lambdas/engine/attachments/decoders.ts';

// The regex readings the decoders were first written as: the decoders loop over char codes for speed
// and must give exactly these results.
const reference = {
  qp(body: string, bad: QpBadEscape): Buffer {
    const hexByte = (hex: string): string => String.fromCharCode(Number.parseInt(hex, 16));
    if (bad === 'keep' || bad === 'drop-eq') {
      const joined = body.replace(/=[ \t]*(\r\n|\r|\n)/g, '');
      const decoded = joined.replace(/=([0-9A-Fa-f]{2})?/g, (m, hex?: string) =>
        hex ? hexByte(hex) : bad === 'keep' ? m : '',
      );
      return Buffer.from(decoded, 'latin1');
    }
    const softBreak = bad === 'drop-1' ? /=?[ \t]*(\r\n|\r|\n)/g : /=[ \t]*(\r\n|\r|\n)/g;
    const joined = body.replace(softBreak, '');
    const decoded = joined.replace(/=([0-9A-F]{2})?([^=\r\n]{0,2})/g, (_m, hex?: string, rest = '') =>
      hex ? hexByte(hex) + rest : bad === 'drop-1' ? rest.slice(1) : '',
    );
    return Buffer.from(decoded, 'latin1');
  },
  // Node's own decoder on the base64 characters alone; with `=` ending a quad, on each run between them.
  base64(src: string, padEndsQuad: boolean): Buffer {
    const decode = (run: string) => Buffer.from(run.replace(/[^A-Za-z0-9+/]/g, ''), 'base64');
    return padEndsQuad ? Buffer.concat(src.split('=').map(decode)) : decode(src);
  },
  // uuencode line by line, as decodeUuencode was first written.
  uuencode(body: string): { name?: string; bytes: Buffer } | undefined {
    const chunks: Buffer[] = [];
    let name: string | undefined;
    for (const raw of body.split(/\r\n|\r|\n/)) {
      const begin = /^begin(?:-base64)?\s+[0-7]{3,4}\s+(.{1,255})$/.exec(raw);
      if (begin) {
        name = begin[1]?.trim();
        continue;
      }
      if (raw === 'end') break;
      const count = (raw.charCodeAt(0) - 32) & 63;
      if (raw.length === 0 || count === 0) continue;
      const need = Math.ceil(count / 3) * 4;
      const line = raw.slice(1).padEnd(need, ' ');
      if (raw.length - 1 < need - 2 || raw.length - 1 > need + 2) continue;
      if (/[^ -`]/.test(line.slice(0, need))) continue;
      const six = [...line.slice(0, need)].map((c) => (c.charCodeAt(0) - 32) & 63);
      const bytes: number[] = [];
      for (let i = 0; i < need; i += 4) {
        const [a = 0, b = 0, c = 0, d = 0] = six.slice(i, i + 4);
        bytes.push(((a << 2) | (b >> 4)) & 0xff, ((b << 4) | (c >> 2)) & 0xff, ((c << 6) | d) & 0xff);
      }
      chunks.push(Buffer.from(bytes.slice(0, count)));
    }
    if (chunks.length === 0) return undefined;
    return { ...(name ? { name } : {}), bytes: Buffer.concat(chunks) };
  },
  linePrefixes: (body: string): string =>
    body
      .split(/\r\n|\r|\n/)
      .map((l) => /^[A-Za-z0-9+/=]*/.exec(l.trim())?.[0] ?? '')
      .join(''),
  wholeQuads: (body: string): string =>
    body
      .split(/\r\n|\r|\n/)
      .map((l) => {
        const t = l.replace(/[^A-Za-z0-9+/=]/g, '');
        return t.slice(0, t.length - (t.length % 4));
      })
      .join(''),
};

// Strings dense in what the decoders treat specially: escapes, hex digits of both cases, blanks,
// every kind of line break, base64 characters, whitespace trim() removes, and a char above latin1.
const tricky = fc
  .array(
    fc.constantFrom(
      '=',
      '=\r\n',
      '= \n',
      '=\t\r',
      '\r\n',
      '\r',
      '\n',
      ' ',
      '\t',
      '\v',
      '\f',
      '\u00a0',
      'A',
      'f',
      'F',
      '3',
      'D',
      'g',
      'z',
      '+',
      '/',
      '.',
      '=3D',
      '=3d',
      '=0A',
      '=G1',
      'é',
      '\ufeff',
      '\u2028',
    ),
    { maxLength: 60 },
  )
  .map((parts) => parts.join(''));

describe('decodeQuotedPrintable', () => {
  it('gives the regex reading for every treatment of bad escapes', () => {
    fc.assert(
      fc.property(
        tricky,
        fc.constantFrom<QpBadEscape>('keep', 'drop-eq', 'drop-1', 'drop-2'),
        (body, bad) => {
          expect(decodeQuotedPrintable(body, bad)).toEqual(reference.qp(body, bad));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('quotedPrintableReadings gives each treatment its regex reading, in the order asked', () => {
    const order: QpBadEscape[] = ['drop-eq', 'keep', 'drop-1', 'drop-2'];
    fc.assert(
      fc.property(tricky, (body) => {
        const readings = [...quotedPrintableReadings(body, order)];
        expect(readings.map((r) => r.bad)).toEqual(order);
        for (const r of readings) expect(r.bytes).toEqual(reference.qp(body, r.bad));
      }),
      { numRuns: 3000 },
    );
  });

  it('decodes escapes and soft breaks', () => {
    expect(decodeQuotedPrintable('caf=C3=A9 =\r\nau lait', 'keep').toString('utf8')).toBe('café au lait');
    expect(decodeQuotedPrintable('a=ZZb', 'keep').toString('latin1')).toBe('a=ZZb');
    expect(decodeQuotedPrintable('a=ZZb', 'drop-eq').toString('latin1')).toBe('aZZb');
    expect(decodeQuotedPrintable('a=ZZb', 'drop-1').toString('latin1')).toBe('aZb');
    expect(decodeQuotedPrintable('a=ZZb', 'drop-2').toString('latin1')).toBe('ab');
  });
});

describe('decodeBase64', () => {
  it("gives node's decoding of the base64 characters, run by run when = ends a quad", () => {
    fc.assert(
      fc.property(tricky, fc.boolean(), (body, padEndsQuad) => {
        expect(decodeBase64(body, padEndsQuad).equals(reference.base64(body, padEndsQuad))).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('gives the same on long base64 text with a few `=`, url-safe chars and junk of every kind', () => {
    // Node's decoder is given the text with only `-`, `_` (and `=`) taken out: it must skip every other
    // junk char as the reference's removal does.
    const piece = fc.oneof(
      { weight: 20, arbitrary: fc.constantFrom('QUJD', 'UEsDBA', 'TVqQ', 'JVBERi0x', '+/9', 'a', 'Zz') },
      {
        weight: 4,
        arbitrary: fc.constantFrom(
          '\r\n',
          '\n',
          '\r',
          ' ',
          '\t',
          '.',
          '<',
          '\u00e9',
          '\u2028',
          '\ufeff',
          '\u4e00',
          '\u0000',
          '\u007f',
          '\u00ff',
          '\u0100',
          '%',
          '*',
        ),
      },
      { weight: 1, arbitrary: fc.constantFrom('=', '==', '-', '_', '=A', 'Q=') },
    );
    fc.assert(
      fc.property(fc.array(piece, { minLength: 40, maxLength: 400 }), fc.boolean(), (parts, padEndsQuad) => {
        const body = parts.join('');
        expect(decodeBase64(body, padEndsQuad).equals(reference.base64(body, padEndsQuad))).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('decodeUuencode', () => {
  const part = fc.constantFrom(
    '\r\n',
    '\n',
    '\r',
    'begin 644 a.zip',
    'begin-base64 0644  b c ',
    'begin 644\nx',
    'begin 644 n\u2028m',
    'begin 77 x',
    'end',
    'end ',
    '#0V%T',
    '%0V%T',
    'M4$L#!!0``````',
    '`',
    ' ',
    '!80``',
    'AB',
    'ab',
    '\u2028',
    '`` ',
    '"``a',
    '$``a~',
  );
  it('gives the line-by-line reading: data lines, the last begin name, nothing after an end line', () => {
    fc.assert(
      fc.property(fc.array(part, { maxLength: 40 }), (parts) => {
        const body = parts.join('');
        expect(decodeUuencode(body)).toEqual(reference.uuencode(body));
      }),
      { numRuns: 5000 },
    );
  });

  it('reads a body the same after lines that changesUuencode says change nothing', () => {
    const lines = fc.array(part, { maxLength: 12 });
    fc.assert(
      fc.property(lines, lines, fc.constantFrom('\n', '\r', '\r\n'), (head, body, nl) => {
        const start = `${head.join('')}${nl}`;
        const whole = `${start}${body.join('')}`;
        if (!changesUuencode(start)) expect(decodeUuencode(whole)).toEqual(decodeUuencode(body.join('')));
        else expect(changesUuencode(whole)).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('base64 line readings', () => {
  it('base64LinePrefixes gives the regex reading', () => {
    fc.assert(
      fc.property(tricky, (body) => {
        expect(base64LinePrefixes(body)).toBe(reference.linePrefixes(body));
      }),
      { numRuns: 3000 },
    );
  });

  it('decodeBase64Runs decodes each line reading as decodeBase64 with padding does', () => {
    fc.assert(
      fc.property(tricky, (body) => {
        for (const text of [base64LinePrefixes(body), base64WholeQuads(body)])
          expect(decodeBase64Runs(text).equals(decodeBase64(text, true))).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('base64WholeQuads gives the regex reading', () => {
    fc.assert(
      fc.property(tricky, (body) => {
        expect(base64WholeQuads(body)).toBe(reference.wholeQuads(body));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('reading a body after a start', () => {
  // Texts as the readings hand them over: base64 characters, `=`, line breaks and other junk (no `-`
  // or `_`, which the readings take out).
  const b64ish = fc
    .array(
      fc.oneof(
        fc.constantFrom('A', 'Q', 'g', 'z', '0', '9', '+', '/', 'AAAA', 'QUJD', '/+/+'),
        fc.constantFrom('=', '==', '\r\n', '\n', '\r', ' ', '\t', '.', '*', '\u0000', '\u00e9', '\u00ff'),
      ),
      { maxLength: 40 },
    )
    .map((parts) => parts.join(''));
  const runsOf = (texts: readonly string[]): Base64Runs =>
    texts.reduceRight<Base64Runs | undefined>(
      (tail, t) => new Base64Runs(() => t, tail),
      undefined,
    ) as Base64Runs;

  it('Base64Runs of heads in front of a tail gives decodeBase64Runs of the texts joined', () => {
    fc.assert(
      fc.property(
        fc.array(b64ish, { minLength: 1, maxLength: 3 }),
        fc.array(fc.array(b64ish, { minLength: 1, maxLength: 2 }), { minLength: 1, maxLength: 5 }),
        (tailTexts, heads) => {
          // One tail (itself maybe a head and a tail) shared by every head, asked in any order.
          const tail = runsOf(tailTexts);
          const whole = (texts: readonly string[]): string => [...texts, ...tailTexts].join('');
          for (const head of heads) {
            const runs = head.reduceRight((t, h) => new Base64Runs(() => h, t), tail);
            const bytes = runs.bytes();
            expect(bytes.equals(decodeBase64Runs(whole(head)))).toBe(true);
            expect(runs.bytes()).toBe(bytes);
          }
          expect(tail.bytes().equals(decodeBase64Runs(whole([])))).toBe(true);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it("Base64Runs of a text without `=` gives Node's plain base64 decoding, after any head", () => {
    const plain = b64ish.map((t) => t.replaceAll('=', ''));
    fc.assert(
      fc.property(plain, plain, plain, (h1, h2, tail) => {
        const expected = Buffer.from(h1 + h2 + tail, 'base64');
        expect(runsOf([h1, h2, tail]).bytes().equals(expected)).toBe(true);
        expect(
          runsOf([h1, h2 + tail])
            .bytes()
            .equals(expected),
        ).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('Base64Runs of a text with no base64 after its first `=` reads as the text without `=`, after any head', () => {
    const padded = fc
      .tuple(b64ish, b64ish)
      .map(([run, rest]) => `${run.replaceAll('=', '')}=${rest.replace(/[A-Za-z0-9+/]/g, '')}`);
    fc.assert(
      fc.property(b64ish, padded, (head, tail) => {
        const unpadded = new Base64Runs(() => tail.replaceAll('=', ''));
        const bytes = new Base64Runs(() => head, unpadded).bytes();
        expect(bytes.equals(decodeBase64Runs(head + tail))).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  // An encoder's output: lines of a multiple of four characters, LF or CRLF; sometimes one char changed.
  const encoded = fc
    .tuple(
      fc.uint8Array({ maxLength: 200 }),
      fc.integer({ min: 1, max: 20 }),
      fc.constantFrom('\n', '\r\n'),
      fc.option(
        fc.tuple(
          fc.nat(),
          fc.constantFrom('', '=', '-', '_', ' ', '.', '\r', '\n', '\t', '\u00e9', 'A', 'AAAA', '==', '\r\n'),
          fc.boolean(),
        ),
      ),
    )
    .map(([bytes, quads, nl, change]) => {
      const text = Buffer.from(bytes).toString('base64');
      let body = text.replace(new RegExp(`.{${quads * 4}}`, 'g'), `$&${nl}`);
      if (change) {
        const [at, s, replace] = change;
        const i = body.length ? at % body.length : 0;
        body = body.slice(0, i) + s + body.slice(replace ? i + 1 : i);
      }
      return body;
    });
  const reading0 = (body: string) => () => Buffer.from(base64Text(body, false), 'base64');

  it('isPlainBase64 holds for what an encoder writes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 1, max: 20 }), (bytes, quads) => {
        const body = Buffer.from(bytes)
          .toString('base64')
          .replace(new RegExp(`.{${quads * 4}}`, 'g'), '$&\r\n');
        expect(isPlainBase64(body, reading0(body))).toBe(true);
      }),
    );
  });

  it('isPlainBase64 fails when a line or the padding reads otherwise than the whole body', () => {
    // A skipped char a third `=` hides from the count, a line of three quads and a bit, a lone CR.
    for (const body of ['QU.D\r\nQ===', 'QUJD\r\nQUJDQ\r\n', 'QUJD\rQUJ\n', 'QUJD=QUJD', 'QU-D', 'QU D'])
      expect(isPlainBase64(body, reading0(body))).toBe(false);
  });

  it('a plain base64 body reads the same every way, after any head', () => {
    fc.assert(
      fc.property(encoded, b64ish, (body, head) => {
        if (!isPlainBase64(body, reading0(body))) return;
        const plain = decodeBase64Runs(head + base64Text(body, false));
        for (const text of [base64Text(body, true), base64LinePrefixes(body), base64WholeQuads(body)])
          expect(decodeBase64Runs(head + text).equals(plain)).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it('the kept characters decode as the plain texts do, after any head', () => {
    const body = fc
      .array(fc.oneof(tricky, fc.constantFrom('-', '_', 'Q-_Q')), { maxLength: 4 })
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(body, b64ish, (body, head) => {
        const kept = base64Kept(body);
        const decode = (text: string) => new Base64Runs(() => head, new Base64Runs(() => text)).bytes();
        expect(decode(kept.replaceAll('=', '')).equals(decode(base64Text(body, false)))).toBe(true);
        expect(decode(kept).equals(decode(base64Text(body, true)))).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it('the line readings of a start that ends a line, then a body, are the two readings one after the other', () => {
    fc.assert(
      fc.property(tricky, tricky, fc.constantFrom('\n', '\r', '\r\n'), (head, body, nl) => {
        expect(base64LinePrefixes(head + nl + body)).toBe(
          base64LinePrefixes(head + nl) + base64LinePrefixes(body),
        );
        expect(base64WholeQuads(head + nl + body)).toBe(base64WholeQuads(head + nl) + base64WholeQuads(body));
      }),
      { numRuns: 3000 },
    );
  });
});
