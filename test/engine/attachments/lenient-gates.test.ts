import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AttachmentLimitsSchema } from '../../../lambdas/config/schema.ts';
import {
  base64LinePrefixes,
  base64WholeQuads,
  decodeBase64,
  decodeQuotedPrintable,
  decodeRegularQuotedPrintable,
  hasBadQpEscape,
  type QpBadEscape,
} from '../../../lambdas/engine/attachments/decoders.ts';
import {
  bodies,
  decodedHead,
  decodedHeads,
  extractFiles,
  quotedPrintableMayCarveZip,
} from '../../../lambdas/engine/attachments/extract.ts';
import { DEFAULT_LIMITS } from '../../../lambdas/engine/parse.ts';
import { buildZip, eicar } from '../../support/zip.ts';

const MODES: readonly QpBadEscape[] = ['drop-eq', 'keep', 'drop-1', 'drop-2'];
const READINGS: readonly [string, (body: string) => Buffer][] = [
  ['base64', (b) => decodeBase64(b, false)],
  ['base64, = ends a quad', (b) => decodeBase64(b, true)],
  ['base64 line prefixes', (b) => decodeBase64(base64LinePrefixes(b), true)],
  ['base64 whole quads', (b) => decodeBase64(base64WholeQuads(b), true)],
  ...MODES.map((m): [string, (body: string) => Buffer] => [
    `quoted-printable ${m}`,
    (b) => decodeQuotedPrintable(b, m),
  ]),
];

// Bodies dense in what the readings treat specially, cut into many lines of every break kind.
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
      '=05',
      '=0',
      '5',
      'QUJD',
      'UEsF',
      'Bg',
      'é',
      '\u2028',
    ),
    { maxLength: 200 },
  )
  .map((parts) => parts.join(''));

describe('decodedHead', () => {
  it('is the start of the whole reading, for every reading', () => {
    fc.assert(
      fc.property(
        tricky,
        fc.integer({ min: 1, max: 40 }),
        fc.constantFrom(...READINGS),
        (body, want, [, read]) => {
          const head = decodedHead(body, want, read);
          if (!head) return;
          expect(head.length).toBeGreaterThanOrEqual(want);
          expect(head.equals(read(body).subarray(0, head.length))).toBe(true);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('decodedHeads gives each reading its start, all from one start of the body', () => {
    fc.assert(
      fc.property(tricky, fc.integer({ min: 1, max: 40 }), (body, want) => {
        const heads = decodedHeads(body, want, (b) => READINGS.map(([, read]) => read(b)));
        if (!heads) return;
        expect(heads).toHaveLength(READINGS.length);
        for (const [i, [, read]] of READINGS.entries()) {
          const head = heads[i] as Buffer;
          expect(head.length).toBeGreaterThanOrEqual(want);
          expect(head.equals(read(body).subarray(0, head.length))).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('decodes only a start that ends a line, and gives up when that is all of the body', () => {
    const body = `${'QUJD'.repeat(10)}\n${'QUJD'.repeat(10)}\n${'QUJD'.repeat(10)}`;
    const head = decodedHead(body, 20, (b) => decodeBase64(b, false));
    expect(head?.toString()).toBe('ABC'.repeat(10).slice(0, 27));
    expect(decodedHead('QUJD'.repeat(30), 20, (b) => decodeBase64(b, false))).toBeUndefined();
  });
});

describe('decodeRegularQuotedPrintable', () => {
  // Bodies a real encoder writes (escapes and soft breaks only), and the same with tricky chars mixed in.
  const regular = fc
    .array(fc.constantFrom('=3D', '=0A', '=FF', '=\r\n', '= \t\n', '=\r', 'a', ' ', '\r\n', '\n', 'Z9'), {
      maxLength: 60,
    })
    .map((w) => w.join(''));

  it('reads what drop-eq reads, in one pass, and gives up exactly where a bad escape stands', () => {
    fc.assert(
      fc.property(fc.oneof(regular, tricky), (body) => {
        const one = decodeRegularQuotedPrintable(body);
        expect(one === undefined).toBe(hasBadQpEscape(body));
        if (one) expect(one).toEqual(decodeQuotedPrintable(body, 'drop-eq'));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('quotedPrintableMayCarveZip', () => {
  it('says yes whenever a quoted-printable reading holds a zip end record', () => {
    const eocdish = fc
      .array(
        fc.constantFrom(
          'P',
          'K',
          '=50',
          '=4B',
          '=05',
          '=06',
          '=0\r\n5',
          '==\n06',
          '=\n',
          '\u0005',
          '\u0006',
          '=z',
          '=',
          ' \n',
        ),
        {
          maxLength: 30,
        },
      )
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(fc.oneof(tricky, eocdish), (body) => {
        const holds = MODES.some((m) => decodeQuotedPrintable(body, m).includes('PK\x05\x06', 0, 'latin1'));
        if (holds) expect(quotedPrintableMayCarveZip(body)).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it('reads a megabyte of `=` and blanks once (a regex that backtracked over it would never return)', () => {
    const run = '= \t=\r\n='.repeat(150_000);
    expect(quotedPrintableMayCarveZip(`${run}0${run}5 ${run}0 ${run}6`)).toBe(true);
    expect(quotedPrintableMayCarveZip(`${run}1${run}5`)).toBe(false);
  });

  it('says no for prose with escapes', () => {
    expect(quotedPrintableMayCarveZip('caf=C3=A9 au lait=\r\nsoft break =3D equal')).toBe(false);
    expect(quotedPrintableMayCarveZip('PK=05=06')).toBe(true);
  });
});

// The files the lenient pass exists to find, encoded as a client might, in a text body among prose
// long enough that the gates judge each reading by its start.
const LIMITS = AttachmentLimitsSchema.parse({});
// Each kind at a given size: long enough, encoded, for the gates to judge its block by its start.
const FILES: readonly [string, (size: number) => Buffer][] = [
  [
    'zip',
    (n) =>
      buildZip([
        { name: 'eicar.com', data: eicar() },
        { name: 'notes.txt', data: filler(n), deflate: false },
      ]),
  ],
  [
    'pdf',
    (n) => Buffer.concat([Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\n'), filler(n), Buffer.from('\n%%EOF')]),
  ],
  ['exe', (n) => Buffer.concat([Buffer.from('MZ\x90\x00\x03\x00\x00\x00', 'latin1'), filler(n)])],
  ['gz', (n) => gzipSync(Buffer.concat([Buffer.from('payload '), filler(n)]))],
  ['rar', (n) => Buffer.concat([Buffer.from('Rar!\x1a\x07\x00', 'latin1'), filler(n)])],
  ['7z', (n) => Buffer.concat([Buffer.from('377abcaf271c0004', 'hex'), filler(n)])],
  ['cfb', (n) => Buffer.concat([Buffer.from('d0cf11e0a1b11ae1', 'hex'), filler(n + 600)])],
];
/** `n` bytes of every value, in a fixed order. */
function filler(n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0, x = n | 1; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out[i] = x >> 16;
  }
  return out;
}
const base64Lines = (b: Buffer) => b.toString('base64').replace(/.{1,76}/g, '$&\n');
const quotedPrintable = (b: Buffer) => {
  let out = '';
  let line = 0;
  for (const c of b) {
    const token =
      c >= 33 && c <= 126 && c !== 61
        ? String.fromCharCode(c)
        : `=${c.toString(16).toUpperCase().padStart(2, '0')}`;
    if (line + token.length > 72) {
      out += '=\n';
      line = 0;
    }
    out += token;
    line += token.length;
  }
  return out;
};
const uuencode = (b: Buffer) => {
  const lines = ['begin 644 file.bin'];
  for (let i = 0; i < b.length; i += 45) {
    const chunk = b.subarray(i, i + 45);
    let line = String.fromCharCode(32 + chunk.length);
    for (let k = 0; k < chunk.length; k += 3) {
      const [x = 0, y = 0, z = 0] = chunk.subarray(k, k + 3);
      line += [x >> 2, ((x & 3) << 4) | (y >> 4), ((y & 15) << 2) | (z >> 6), z & 63]
        .map((v) => String.fromCharCode(v === 0 ? 96 : 32 + v))
        .join('');
    }
    lines.push(line);
  }
  return `${lines.join('\n')}\n\`\nend\n`;
};
const ENCODINGS: readonly [string, (b: Buffer) => string][] = [
  ['base64', base64Lines],
  ['quoted-printable', quotedPrintable],
  ['uuencode', uuencode],
  ['raw', (b) => b.toString('latin1')],
];
const prose = fc
  .array(
    fc.constantFrom(
      'Dear all, ',
      'the invoice ',
      'is attached ',
      'below. ',
      '=3D ',
      'Regards, ',
      'Q3 ',
      'PK ',
    ),
    {
      minLength: 60,
      maxLength: 200,
    },
  )
  .map((w) => w.join(''));

describe('extractFiles with the lenient gates', () => {
  it('still finds a file of each kind, however it is encoded, among prose', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...FILES),
        fc.integer({ min: 24, max: 4000 }),
        fc.constantFrom(...ENCODINGS),
        prose,
        prose,
        fc.constantFrom('\n', '\r\n'),
        async ([, build], size, [, encode], before, after, nl) => {
          const file = build(size);
          // Line breaks of the text as `nl`; a raw file's bytes as they are.
          const text = (s: string) => s.replace(/\r?\n/g, nl);
          const isRaw = encode === ENCODINGS[3]?.[1];
          // A raw file is a block of its own only when it holds no blank line and no `--` line (the lenient
          // pass splits at both) and ends with no break.
          const splits = /(?:\r\n|\n|\r)[ \t\v\f]*(?:\r\n|\n|\r)|(?:^|[\r\n])--|[\r\n]$/;
          fc.pre(!isRaw || !splits.test(file.toString('latin1')));
          const encoded = isRaw ? encode(file) : text(encode(file));
          // Content-Type twice: readers may disagree about such a message, so the full lenient pass reads it
          // (canonical MIME's pass reads base64 in a text part as the text it is to every reader).
          const raw = Buffer.from(
            text(
              'From: a@example.org\nTo: b@example.com\nSubject: see below\nContent-Type: text/plain\nContent-Type: text/plain\n\n',
            ) +
              text(`${before}\n\n`) +
              encoded +
              text(`\n\n${after}`),
            'latin1',
          );
          const x = await extractFiles(raw, LIMITS, DEFAULT_LIMITS);
          const sha = createHash('sha256').update(file).digest('hex');
          expect(x.files.some((f) => f.sha256 === sha)).toBe(true);
        },
      ),
      { numRuns: 50 },
    );
  }, 120_000);
});

describe('bodies', () => {
  // What bodies() did before it scanned a segment's whitespace-only lines once for all its bodies: split
  // each body whole.
  const NL = '(?:\\r\\n|\\n|\\r(?!\\n))';
  const WS_LINE = new RegExp(`${NL}[ \\t\\v\\f]*${NL}`);
  const reference = (seg: string): Map<string, number> => {
    const out = new Map<string, number>();
    const from = (at: number) => {
      const body = seg.slice(at);
      if (!out.has(body)) out.set(body, at);
    };
    const blank = new RegExp(`${NL}${NL}`).exec(seg);
    if (blank) from(blank.index + blank[0].length);
    const wsLine = WS_LINE.exec(seg);
    if (wsLine) from(wsLine.index + wsLine[0].length);
    const headerLines = new RegExp(`^(?:[!-9;-~]+[ \\t]*:[^\\r\\n]*${NL}(?:[ \\t][^\\r\\n]*${NL})*)+`).exec(
      seg,
    );
    if (headerLines) from(headerLines[0].length);
    from(0);
    for (const body of [...out.keys()]) {
      const blocks = body.split(WS_LINE).filter((b) => b.trim().length > 0);
      if (blocks.length > 1) for (const b of blocks.slice(0, 8)) if (!out.has(b)) out.set(b, -1);
    }
    return out;
  };
  // Segments dense in line breaks, blanks and header-like lines, so bodies start inside blank lines.
  const segment = fc
    .array(
      fc.constantFrom(
        '\r',
        '\n',
        '\r\n',
        ' ',
        '\t',
        '\v',
        '\f',
        'a',
        'b:',
        'X: y',
        ':',
        '\u00a0',
        'A: b\r\n',
      ),
      { maxLength: 60 },
    )
    .map((parts) => parts.join(''));

  it('gives the bodies and blocks that splitting each body at whitespace-only lines gives, in order', () => {
    fc.assert(
      fc.property(segment, (seg) => {
        expect([...bodies(seg)]).toEqual([...reference(seg)]);
      }),
      { numRuns: 20_000 },
    );
  });
});
