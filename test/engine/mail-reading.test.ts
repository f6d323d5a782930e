// readMailParts gives what mailparser's simpleParser gives, text included, byte for byte, and the same
// decoded headers for the fields it decodes, when it is given mailparser's converter (html-to-text with
// mailparser's options): on generated MIME trees (alternatives, attached messages, delivery reports, html
// too deep or too long to convert) and on a slice of the corpus (../shared/corpus, skipped when absent).
// So the walk that picks the parts, their limits and joins is mailparser's; parse gives it its own
// converter (html-reading.ts).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { compile } from 'html-to-text';
import libbase64 from 'libbase64';
import { Libmime } from 'libmime';
import { decode as decodeCharset } from 'libmime/lib/charset.js';
import libqp from 'libqp';
import { type MailParserOptions, type ParsedMail, simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { listFiles, stripMboxLine } from '../../bin/commands/corpus-files.ts';
import {
  DECODED_HEADERS,
  decodeBase64Body,
  decodeQuotedPrintable,
  decodeText,
  decodeWordsWhenEncoded,
  exceedsHtmlNestingDepth,
  readMailParts,
} from '../../lambdas/engine/mail-reading.ts';
import { generatedHtml } from './helpers.ts';

// mailparser's conversion: html-to-text with its nesting limit.
const htmlToText = compile({ limits: { maxDepth: 1000 } });

/** The decoded fields readMailParts keeps; mailparser's stand-in for a bad Date is the current time. */
const decoded = (headers: ParsedMail['headers']) =>
  [...headers].filter(([key]) => DECODED_HEADERS.has(key)).map(([key, value]) => [key, recent(value)]);
const recent = (value: unknown) =>
  value instanceof Date && Math.abs(Date.now() - value.getTime()) < 60_000 ? 'now' : value;

/** Everything a reader of the parsed mail sees. */
const view = (mail: ParsedMail) => ({
  text: mail.text,
  html: mail.html,
  textAsHtml: mail.textAsHtml,
  textConversionError: (mail as { textConversionError?: Error }).textConversionError?.message,
  subject: mail.subject,
  from: mail.from,
  to: mail.to,
  cc: mail.cc,
  messageId: mail.messageId,
  date: recent(mail.date),
  headers: decoded(mail.headers),
  headerLines: mail.headerLines,
  attachments: mail.attachments.map((a) => ({
    ...a,
    headers: decoded(a.headers),
    content: a.content.toString('base64'),
  })),
});

// simpleParser never settles on some damaged trees (an inline message/rfc822 with no body, for one): it
// is given this many event loop turns, far more than it takes on these messages, before it counts as stuck.
const SETTLE_TURNS = 20_000;
const NEVER = 'never settles';
function withinTurns<T>(promise: Promise<T>): Promise<T | typeof NEVER> {
  return new Promise((resolve) => {
    let settled = false;
    promise.then((value) => {
      settled = true;
      resolve(value);
    });
    const turn = (left: number): void => {
      if (!settled) left ? setImmediate(turn, left - 1) : resolve(NEVER);
    };
    turn(SETTLE_TURNS);
  });
}

const both = async (raw: Buffer, options: MailParserOptions) => ({
  theirs: await withinTurns(simpleParser(raw, options).then(view, (e: Error) => `rejects: ${e.message}`)),
  ours: await readMailParts(raw, options, htmlToText).then(view, (e: Error) => `rejects: ${e.message}`),
});

const SEG_OPTIONS: MailParserOptions = {
  skipImageLinks: true,
  skipTextToHtml: true,
  skipTextLinks: true,
  maxHtmlLengthToParse: 2_000_000,
};

const html = generatedHtml([
  '<pre>  keep   spaces\n  here </pre>',
  'plain words without any markup that go on long enough to be wrapped at eighty characters by the converter',
]);

const plain = fc.stringMatching(/^[ -~\n]{0,200}$/);

type Part = { type: string; body: string } | { type: string; children: Part[] };

const leaf: fc.Arbitrary<Part> = fc.oneof(
  plain.map((body) => ({ type: 'text/plain', body })),
  html.map((body) => ({ type: 'text/html', body })),
  // Nested past mailparser's limit of 1000 levels: not converted, the text stays empty.
  fc.constant({ type: 'text/html', body: `${'<div>'.repeat(1001)}x${'</div>'.repeat(1001)}` }),
  fc.constant({
    type: 'message/delivery-status',
    body: 'Reporting-MTA: dns; mx.example.org\n\nStatus: 5.1.1',
  }),
  fc.constant({ type: 'application/octet-stream', body: 'binary-ish data' }),
);

const part: fc.Arbitrary<Part> = fc.letrec<{ part: Part }>((tie) => ({
  part: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.record({
      type: fc.constantFrom(
        'multipart/mixed',
        'multipart/alternative',
        'multipart/related',
        'message/rfc822',
      ),
      children: fc.array(tie('part'), { minLength: 1, maxLength: 3 }),
    }),
  ),
})).part;

let boundaries = 0;
function render(p: Part, encoding: string): string {
  if ('body' in p) {
    const body =
      encoding === 'base64'
        ? Buffer.from(p.body).toString('base64').replace(/.{76}/g, '$&\r\n')
        : p.body.replace(/\n/g, '\r\n');
    const name = p.type === 'application/octet-stream' ? '; name="file.bin"' : '; charset=utf-8';
    return `Content-Type: ${p.type}${name}\r\nContent-Transfer-Encoding: ${encoding === 'base64' ? 'base64' : '8bit'}\r\n\r\n${body}\r\n`;
  }
  if (p.type === 'message/rfc822') {
    const inner = p.children[0]!;
    return (
      // Inline, mailparser puts the attached message's headers in the text; otherwise it is an attachment.
      `Content-Type: message/rfc822\r\n${++boundaries % 2 ? 'Content-Disposition: inline\r\n' : ''}\r\n` +
      'From: Inner Sender <inner@example.net>\r\nTo: someone@example.org\r\nSubject: inner subject\r\n' +
      `Date: Tue, 1 Dec 2026 01:02:03 +0000\r\n${render(inner, encoding)}`
    );
  }
  const boundary = `b${++boundaries}`;
  return (
    `Content-Type: ${p.type}; boundary="${boundary}"\r\n\r\n` +
    p.children.map((c) => `--${boundary}\r\n${render(c, encoding)}`).join('') +
    `--${boundary}--\r\n`
  );
}

const message = fc.record({
  root: part,
  encoding: fc.constantFrom('8bit', 'base64'),
  options: fc.constantFrom<MailParserOptions>(
    SEG_OPTIONS,
    { ...SEG_OPTIONS, maxHtmlLengthToParse: 300 },
    { ...SEG_OPTIONS, keepDeliveryStatus: true },
    {},
    { skipHtmlToText: true, skipTextToHtml: true },
  ),
});

const build = (root: Part, encoding: string) =>
  Buffer.from(
    'From: Alice <alice@example.org>\r\nTo: bob@example.com\r\nSubject: generated\r\n' +
      `Date: Mon, 30 Nov 2026 10:00:00 +0000\r\nMessage-ID: <g@example.org>\r\nMIME-Version: 1.0\r\n${render(root, encoding)}`,
  );

describe('readMailParts', () => {
  it("gives simpleParser's text, html and everything else on generated MIME trees", async () => {
    await fc.assert(
      fc.asyncProperty(message, async ({ root, encoding, options }) => {
        const { theirs, ours } = await both(build(root, encoding), options);
        expect(ours).toEqual(theirs);
      }),
      { numRuns: 200 },
    );
  });

  it("decodes every body as mailparser's decoder streams do: base64, quoted-printable, flowed, charsets", async () => {
    const part = (headers: string, body: Buffer | string) =>
      Buffer.concat([
        Buffer.from(`--b\r\n${headers}\r\n\r\n`),
        Buffer.from(body as string, 'latin1'),
        Buffer.from('\r\n'),
      ]);
    const raw = Buffer.concat([
      Buffer.from(
        'From: a@example.org\r\nSubject: bodies\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n',
      ),
      // Every line padded on its own: libbase64 reads it segment by segment.
      part(
        'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64',
        'SGk=\r\nIHRoZXJl\r\nIQ==\r\nIQ',
      ),
      part(
        'Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable',
        'caf=E9 au=\r\n lait =3D ok\r\n',
      ),
      part(
        'Content-Type: text/plain; charset=utf-8; format=flowed; delsp=yes',
        'one long \r\nline that flows\r\n> quoted \r\n> on\r\n',
      ),
      part(
        'Content-Type: text/plain; charset=windows-1251',
        Buffer.from([0xcf, 0xf0, 0xe8, 0xe2, 0xe5, 0xf2]).toString('latin1'),
      ),
      part(
        'Content-Type: text/html; charset=shift_jis',
        Buffer.from([0x82, 0xb1, 0x82, 0xf1, 0x3c, 0x62, 0x3e]).toString('latin1'),
      ),
      part('Content-Type: text/plain; charset=x-unknown-charset', 'caf\xc3\xa9'),
      part(
        'Content-Type: application/octet-stream; name="photo.png"\r\nContent-ID: <img1@x>\r\nContent-Transfer-Encoding: base64',
        'iVBORw0KGgo=\r\n',
      ),
      part('Content-Type: text/plain\r\nContent-Disposition: attachment; filename="notes.txt"', ''),
      Buffer.from('--b--\r\n'),
    ]);
    for (const options of [SEG_OPTIONS, {}]) {
      const { theirs, ours } = await both(raw, options);
      expect(ours).toEqual(theirs);
      expect(typeof theirs === 'object' && theirs.attachments.map((a) => a.filename)).toEqual([
        'photo.png',
        'notes.txt',
      ]);
    }
  });

  it("gives simpleParser's reading of damaged MIME trees: bare LF or CR line ends, lost delimiters, stray dashes, cut ends", async () => {
    const damage = fc.record({
      lineEnd: fc.constantFrom('\r\n', '\n', '\r', '\r\r\n'),
      // Delimiter lines dropped, or given trailing blanks; lines of dashes put in; the end cut off.
      dropDelimiter: fc.option(fc.nat(), { nil: undefined }),
      blanks: fc.constantFrom('', ' ', '\t  '),
      dashes: fc.array(fc.tuple(fc.nat(), fc.constantFrom('--', '--b1', '--b2--', '\r--b1', '---')), {
        maxLength: 3,
      }),
      cut: fc.option(fc.nat(), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(message, damage, async ({ root, encoding, options }, d) => {
        const lines = build(root, encoding).toString('latin1').split('\r\n');
        let delimiters = 0;
        const out: string[] = [];
        lines.forEach((line, n) => {
          for (const [at, dash] of d.dashes) if (at % lines.length === n) out.push(dash);
          if (/^--b\d+(--)?$/.test(line)) {
            if (d.dropDelimiter !== undefined && delimiters++ === d.dropDelimiter % 8) return;
            out.push(line + d.blanks);
          } else out.push(line);
        });
        let raw = Buffer.from(out.join(d.lineEnd), 'latin1');
        if (d.cut !== undefined) raw = raw.subarray(0, d.cut % (raw.length + 1));
        const { theirs, ours } = await both(raw, options);
        // Where simpleParser is stuck, the reading still ends with a mail.
        if (theirs === NEVER) expect(ours).toHaveProperty('attachments');
        else expect(ours).toEqual(theirs);
      }),
      { numRuns: 300 },
    );
  });

  it('reads an inline message/rfc822 with no body, on which simpleParser never settles', async () => {
    const raw = Buffer.from('Content-Type: message/rfc822\r\nContent-Disposition: inline\r\n');
    expect((await both(raw, SEG_OPTIONS)).theirs).toBe(NEVER);
    const mail = await readMailParts(raw, SEG_OPTIONS, htmlToText);
    expect(mail.attachments).toEqual([]);
    expect(mail.headerLines.map((l) => l.key)).toEqual(['content-type', 'content-disposition']);
  });

  it('turns the html of an html-only message into text with the converter it is given', async () => {
    const raw = build(
      { type: 'text/html', body: '<h1>Notice</h1><p>Your <a href="https://x.example/">account</a></p>' },
      '8bit',
    );
    const mail = await readMailParts(raw, SEG_OPTIONS, htmlToText);
    expect(mail.text).toBe('NOTICE\n\nYour account [https://x.example/]');
    expect(mail.text).toBe((await simpleParser(raw, SEG_OPTIONS)).text);
  });

  it('decodes only the fields it reads into headers, and keeps every field raw in headerLines', async () => {
    const raw = Buffer.from(
      'From: a@example.org\r\nList-Unsubscribe: <mailto:u@example.org>\r\nX-Note: =?utf-8?q?caf=C3=A9?=\r\n' +
        'Subject: =?utf-8?q?caf=C3=A9?=\r\n\r\nbody\r\n',
    );
    const mail = await readMailParts(raw, SEG_OPTIONS, htmlToText);
    expect([...mail.headers.keys()]).toEqual(['from', 'subject']);
    expect(mail.subject).toBe('café');
    expect(mail.headerLines.map((l) => l.key)).toEqual(['from', 'list-unsubscribe', 'x-note', 'subject']);
  });

  it('leaves the text of html nested past 1000 levels empty and says why, as mailparser does', async () => {
    const deep = `${'<div>'.repeat(1001)}x${'</div>'.repeat(1001)}`;
    const mail = await readMailParts(
      build({ type: 'text/html', body: deep }, '8bit'),
      SEG_OPTIONS,
      htmlToText,
    );
    expect(mail.text).toBe('');
    expect((mail as { textConversionError?: Error }).textConversionError?.message).toBe(
      'HTML nested deeper than 1000 levels',
    );
  });

  // The corpus sits beside the repository (or beside the folder of worktrees).
  const repo = join(import.meta.dirname, '..', '..');
  const corpus = [join(repo, '..', 'shared', 'corpus'), join(repo, '..', '..', 'shared', 'corpus')].find(
    (d) => existsSync(d),
  );
  it.skipIf(!corpus)('gives simpleParser’s reading on a slice of the corpus (../shared/corpus)', async () => {
    const files = (await listFiles(join(corpus!, 'phishing_pot'))).filter((_, i) => i % 40 === 0);
    files.push(...(await listFiles(join(corpus!, 'spamassassin'))).filter((_, i) => i % 80 === 0));
    expect(files.length).toBeGreaterThan(50);
    for (const file of files) {
      const { theirs, ours } = await both(stripMboxLine(readFileSync(file)), SEG_OPTIONS);
      expect(ours, file).toEqual(theirs);
    }
  });
});

describe('exceedsHtmlNestingDepth', () => {
  it('counts open elements, leaving out void elements, implied ends and comments', () => {
    expect(exceedsHtmlNestingDepth('<div><div><div>', 2)).toBe(true);
    expect(exceedsHtmlNestingDepth('<div><div>', 2)).toBe(false);
    expect(exceedsHtmlNestingDepth('<div><div></div><div>', 2)).toBe(false);
    expect(exceedsHtmlNestingDepth('<br><br><br><td><td><td><p><p>', 2)).toBe(false);
    expect(exceedsHtmlNestingDepth('<!-- <div><div><div> --><div>', 2)).toBe(false);
    expect(exceedsHtmlNestingDepth('<b><i></b><b>', 2)).toBe(false);
    expect(exceedsHtmlNestingDepth('<b><i></u><u>', 2)).toBe(true);
  });
});

describe('decodeQuotedPrintable', () => {
  it('gives the bytes libqp.decode gives, on any mix of blanks, line breaks, = and hex digits', () => {
    const chars = fc.constantFrom(' ', '\t', '\r', '\n', '=', '3', 'D', 'd', 'f', '0', 'g', 'x', '\xe9');
    // Soft breaks and blanks before breaks, which libqp's steps take out, between an escape's digits too.
    const pieces = fc.oneof(chars, fc.constantFrom('=\r\n', '=\n', ' \r\n', '\t\n', '=3', 'text'));
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 60 }), (parts) => {
        const s = parts.join('');
        expect(decodeQuotedPrintable(Buffer.from(s, 'latin1'))).toEqual(libqp.decode(s));
      }),
      { numRuns: 5000 },
    );
    expect(decodeQuotedPrintable(Buffer.from('a=3Db \t\r\nsoft=\r\nbreak=\n=C3=A9 =')).toString('utf8')).toBe(
      'a=b\r\nsoftbreaké ',
    );
  });
});

describe('decodeWordsWhenEncoded', () => {
  it('gives what libmime’s decodeWords gives, on values with and without encoded words or join markers', () => {
    const libmime = new Libmime();
    const patched = new Libmime();
    decodeWordsWhenEncoded(patched);
    const piece = fc.constantFrom(
      '=?',
      '?=',
      '=?utf-8?B?',
      '=?UTF-8?q?',
      '=?iso-8859-1?Q?',
      'w6k=',
      'caf=C3=A9',
      '_',
      ' ',
      '\r\n ',
      '?',
      '=',
      '__\u0000JOIN\u0000__',
      'name',
      '"Bob"',
      '<a@b.c>',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 20 }), (pieces) => {
        const value = pieces.join('');
        expect(patched.decodeWords(value)).toBe(libmime.decodeWords(value));
      }),
      { numRuns: 3000 },
    );
    expect(patched.decodeWords('=?utf-8?Q?caf=C3=A9?= plain')).toBe('café plain');
  });
});

describe('decodeBase64Body', () => {
  it('gives what libbase64 gives once what is not base64 is stripped, on any mix of digits, padding and other bytes', () => {
    const piece = fc.constantFrom(
      'Q',
      'UF',
      'Zm9v',
      'YQ==',
      'YQ=',
      '=',
      '==',
      '\r\n',
      '\n',
      ' ',
      '\t',
      '*',
      '.',
      '\xe9',
      '\xff',
      '-',
      '_',
      '/',
      '+',
      '\x00',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 60 }), (pieces) => {
        const body = Buffer.from(pieces.join(''), 'latin1');
        const stripped = body.toString('latin1').replace(/[^a-zA-Z0-9+/=]/g, '');
        expect(decodeBase64Body(body)).toEqual(libbase64.decode(stripped));
      }),
      { numRuns: 5000 },
    );
    expect(decodeBase64Body(Buffer.from('Zm9v\r\nYmFy\r\n')).toString()).toBe('foobar');
  });
});

describe('decodeText', () => {
  it('gives what libmime’s decode gives (read back as UTF-8), in single-byte charsets and any other', () => {
    const charset = fc.constantFrom(
      'ISO-8859-1',
      'iso8859-15',
      'iso_8859-2',
      'windows-1252',
      'Windows-1251',
      'cp1250',
      'latin1',
      'Latin-1',
      'iso-8859-12',
      'koi8-r',
      'utf-8',
      'US-ASCII',
      'big5',
      'shift_jis',
      'iso-2022-jp',
      'utf-16le',
      'x-unknown',
    );
    const ascii = fc.uint8Array({ max: 0x7f, maxLength: 40 });
    const any = fc.uint8Array({ maxLength: 40 });
    fc.assert(
      fc.property(charset, fc.oneof(ascii, any), (name, bytes) => {
        const content = Buffer.from(bytes);
        const utf8 = ['ascii', 'usascii', 'utf8'].includes(name.toLowerCase().replace(/[^a-z0-9]+/g, ''));
        const decoded = utf8 ? content.toString() : decodeCharset(content, name);
        expect(decodeText(content, name)).toBe(Buffer.from(decoded).toString());
      }),
      { numRuns: 5000 },
    );
  });
});
