import fc from 'fast-check';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { describe, expect, it } from 'vitest';
import { AttachmentLimitsSchema } from '../../../lambdas/config/schema.ts';
import { canonicalLeaves } from '../../../lambdas/engine/attachments/canonical-mime.ts';
import { decodeQuotedPrintable } from '../../../lambdas/engine/attachments/decoders.ts';
import { extractFiles } from '../../../lambdas/engine/attachments/extract.ts';
import { DEFAULT_LIMITS } from '../../../lambdas/engine/parse.ts';
import { buildZip, eicar } from '../../support/zip.ts';

const limits = AttachmentLimitsSchema.parse({});
const canonical = (s: string) => canonicalLeaves(s, DEFAULT_LIMITS);
const crlf = (lines: readonly string[]) => lines.join('\r\n');

// A canonical multipart message: a quoted-printable text part and a base64 attachment.
const BASE = crlf([
  'From: a@example.org',
  'To: b@example.com',
  'Subject: report',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed;',
  '\tboundary="b1"',
  '',
  'This is a multi-part message in MIME format.',
  '--b1',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'Caf=C3=A9 at noon, see the file.',
  '--b1',
  'Content-Type: application/octet-stream; name="data.bin"',
  'Content-Disposition: attachment; filename="data.bin"',
  'Content-Transfer-Encoding: base64',
  '',
  'AAECAwQF',
  '--b1--',
  '',
]);

describe('canonicalLeaves', () => {
  it('gives each leaf part of a canonical message, decoded as its headers say', () => {
    const leaves = canonical(BASE);
    expect(leaves?.map((l) => l.type)).toEqual(['text/plain', 'application/octet-stream']);
    expect(leaves?.[0]?.readings.map((r) => r.toString('utf8'))).toEqual(['Café at noon, see the file.']);
    expect(leaves?.[1]?.readings).toEqual([Buffer.from([0, 1, 2, 3, 4, 5])]);
    expect(leaves?.[1]?.headers).toContain('filename="data.bin"');
  });

  it('reads a message without MIME fields as one text part', () => {
    const leaves = canonical('From: a@example.org\r\nSubject: hi\r\n\r\nHello\r\n');
    expect(leaves?.map((l) => [l.type, ...l.readings.map(String)])).toEqual([['', 'Hello\r\n']]);
  });

  it('reads nested multiparts, attached messages and empty parts', () => {
    const nested = crlf([
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary=outer',
      '',
      '--outer',
      'Content-Type: multipart/alternative; boundary="inner"',
      '',
      '--inner',
      'Content-Type: text/plain',
      '',
      '',
      '--inner',
      'Content-Type: text/html',
      '',
      '<p>hi</p>',
      '--inner--',
      '--outer',
      'Content-Type: message/rfc822',
      '',
      'Subject: inner',
      '',
      'inner text',
      '--outer--',
    ]);
    expect(canonical(nested)?.map((l) => [l.type, ...l.readings.map(String)])).toEqual([
      ['text/plain', ''],
      ['text/html', '<p>hi</p>'],
      ['', 'inner text'],
    ]);
  });

  // Each is one change to BASE that some reader reads differently from mailparser.
  const departures: [string, (s: string) => string][] = [
    [
      'a second Content-Type in a part',
      (s) => s.replace('charset=utf-8', 'charset=utf-8\r\nContent-Type: text/html'),
    ],
    [
      'a blank before a field name colon',
      (s) => s.replace('Content-Transfer-Encoding: base64', 'Content-Transfer-Encoding : base64'),
    ],
    ['an encoding no decoder agrees on', (s) => s.replace(': base64', ': base-64')],
    [
      'a multipart given an encoding',
      (s) => s.replace('MIME-Version: 1.0', 'MIME-Version: 1.0\r\nContent-Transfer-Encoding: base64'),
    ],
    [
      'text after a delimiter on its line',
      (s) => s.replace('--b1\r\nContent-Type: application', '--b1 x\r\nContent-Type: application'),
    ],
    [
      'a delimiter line with trailing blanks',
      (s) => s.replace('--b1\r\nContent-Type: application', '--b1 \r\nContent-Type: application'),
    ],
    ['no closing delimiter', (s) => s.replace('--b1--', '')],
    ['a part after the closing delimiter', (s) => `${s}--b1\r\nContent-Type: text/plain\r\n\r\nx\r\n`],
    ['base64 with a char decoders skip', (s) => s.replace('AAECAwQF', 'AAEC*AwQF')],
    ['base64 lines of broken quads', (s) => s.replace('AAECAwQF', 'AAECA\r\nwQF')],
    ['a lone CR', (s) => s.replace('at noon', 'at\rnoon')],
    [
      'a blank line of spaces in a header block',
      (s) => s.replace('Subject: report\r\n', 'Subject: report\r\n  \r\n'),
    ],
    ['a boundary in RFC 2231 pieces', (s) => s.replace('boundary="b1"', 'boundary*0="b1"')],
    ['a repeated parameter', (s) => s.replace('boundary="b1"', 'boundary="b1"; boundary="b2"')],
    ['a comment in Content-Type', (s) => s.replace('multipart/mixed;', 'multipart/mixed (x);')],
    [
      'a digest part without a type',
      (s) =>
        s
          .replace('multipart/mixed', 'multipart/digest')
          .replace('Content-Type: text/plain; charset=utf-8\r\n', ''),
    ],
    ["blanks around a boundary's =", (s) => s.replace('boundary="b1"', 'boundary = "b1"')],
    [
      'a part a boundary-guessing reader finds in a message without Content-Type',
      () => 'Subject: x\r\n\r\nhi\r\n--x\r\nContent-Type: application/zip\r\n\r\nUEsDBA==\r\n',
    ],
    [
      'a part a boundary-guessing reader finds in a message whose MIME fields some ignore',
      (s) =>
        s
          .replace('MIME-Version: 1.0\r\n', '')
          .replace('Caf=C3=A9', 'x\r\n--y\r\nContent-Type: text/plain\r\n'),
    ],
    ['a long epilogue', (s) => `${s}${'epilogue line\r\n'.repeat(200)}`],
    ['no empty line after the headers', () => 'Subject: x\r\nTo: y\r\n'],
    ['a NUL in a header block', (s) => s.replace('Subject: report', 'Subject: re\0port')],
  ];
  it.each(departures)('is undefined for %s', (_, change) => {
    expect(canonical(BASE)).toBeDefined();
    const changed = change(BASE);
    expect(changed).not.toBe(BASE);
    expect(canonical(changed)).toBeUndefined();
  });

  it('reads quoted-printable with bad escapes dropped, and keeps the body for the other readings', () => {
    const raw = BASE.replace('Caf=C3=A9', 'Caf=C3=A9 =XY =c3');
    const body = raw.slice(raw.indexOf('Caf='), raw.indexOf('\r\n--b1\r\nContent-Type: application'));
    const leaf = canonical(raw)?.[0];
    expect(leaf?.readings).toEqual([decodeQuotedPrintable(body, 'drop-eq')]);
    expect(leaf?.quotedPrintable).toBe(body);
  });

  it('adds the plain-text reading of a message whose MIME fields lack MIME-Version', () => {
    const raw = BASE.replace('MIME-Version: 1.0\r\n', '');
    const leaves = canonical(raw);
    expect(leaves?.map((l) => l.type)).toEqual(['text/plain', 'application/octet-stream', '']);
    expect(leaves?.[2]?.readings.map((r) => r.toString('latin1'))).toEqual([
      raw.slice(raw.indexOf('\r\n\r\n') + 4),
    ]);
    // A single text part reads the same either way: no second reading.
    const single = 'Subject: x\r\nContent-Type: text/plain\r\n\r\nhello\r\n';
    expect(canonical(single)?.map((l) => l.type)).toEqual(['text/plain']);
  });

  it("reads a digest whose parts name their types, and blanks around another parameter's =", () => {
    const raw = BASE.replace('multipart/mixed', 'multipart/digest').replace(
      'charset=utf-8',
      'charset = utf-8',
    );
    expect(canonical(raw)?.map((l) => l.type)).toEqual(['text/plain', 'application/octet-stream']);
  });

  it('is undefined past the part and depth limits', () => {
    expect(canonicalLeaves(BASE, { ...DEFAULT_LIMITS, maxParts: 2 })).toBeUndefined();
    expect(canonicalLeaves(BASE, { ...DEFAULT_LIMITS, maxDepth: 0 })).toBeUndefined();
  });

  it('reads what nodemailer writes as canonical, each attachment as sent', async () => {
    const name = fc.stringMatching(/^[\p{L}\p{N} ._-]{1,30}$/u).map((s) => `${s}.bin`);
    const attachment = fc.record({ filename: name, content: fc.uint8Array({ maxLength: 3000 }) });
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 400 }),
        fc.string({ maxLength: 400 }),
        fc.array(attachment, { maxLength: 4 }),
        async (text, html, attachments) => {
          const raw: Buffer = await new MailComposer({
            from: 'a@example.org',
            to: 'b@example.com',
            subject: 'files',
            text,
            html: `<p>${html}</p>`,
            attachments: attachments.map((a) => ({ ...a, content: Buffer.from(a.content) })),
          })
            .compile()
            .build();
          const leaves = canonical(raw.toString('latin1'));
          expect(leaves).toBeDefined();
          const files = (leaves ?? []).filter((l) => l.headers.includes('attachment'));
          expect(files.map((l) => l.readings.map((r) => [...r]))).toEqual(
            attachments.map((a) => [[...a.content]]),
          );
          if (text)
            expect(
              leaves?.find((l) => l.type === 'text/plain')?.readings.map((r) => r.toString('utf8')),
            ).toEqual([text.replace(/\r?\n|\r/g, '\r\n')]);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('extractFiles on canonical mail', () => {
  const extract = (raw: string) => extractFiles(Buffer.from(raw, 'latin1'), limits, DEFAULT_LIMITS);
  const zip = buildZip([{ name: 'eicar.com', data: eicar() }]);

  it('finds a file sent as a text part (a reader may name it a file)', async () => {
    const raw = BASE.replace('AAECAwQF', zip.toString('base64'))
      .replace('application/octet-stream; name="data.bin"', 'text/plain; name="report.zip"')
      .replace('Content-Disposition: attachment; filename="data.bin"\r\n', '');
    expect(canonical(raw)).toBeDefined();
    const x = await extract(raw);
    expect(x.files.map((f) => [f.source, f.name, f.detected?.ext])).toContainEqual([
      'lenient',
      'report.zip',
      'zip',
    ]);
  });

  it('reads base64 text in a canonical 7bit part as the text it is to every reader', async () => {
    const raw = BASE.replace('AAECAwQF', zip.toString('base64')).replace(
      'Content-Transfer-Encoding: base64',
      'Content-Transfer-Encoding: 7bit',
    );
    expect(canonical(raw)).toBeDefined();
    const x = await extract(raw);
    expect(x.files.map((f) => [f.source, f.detected?.ext])).toEqual([['mime', undefined]]);
  });

  it('finds a file only a decoder that keeps bad quoted-printable escapes reads whole', async () => {
    // A stored zip whose member holds `=ZZ`, quoted-printable but for that `=` (a bad escape).
    const sloppy = buildZip([{ name: 'note.txt', data: Buffer.from('total =ZZ due'), deflate: false }]);
    const qp = [...sloppy]
      .map((b) =>
        b >= 33 && b <= 126 && b !== 61
          ? String.fromCharCode(b)
          : `=${b.toString(16).toUpperCase().padStart(2, '0')}`,
      )
      .join('')
      .replace('=3DZZ', '=ZZ')
      .replace(/(.{70})/g, '$1=\r\n');
    const raw = BASE.replace('Caf=C3=A9 at noon, see the file.', qp);
    expect(canonical(raw)).toBeDefined();
    const x = await extract(raw);
    const kept = x.files.find((f) => f.source === 'lenient' && f.detected?.ext === 'zip');
    expect(kept?.bytes).toEqual(sloppy);
    expect(x.files.some((f) => f.name === 'note.txt')).toBe(true);
  });

  it('finds a file only a decoder that drops hard line breaks reads whole', async () => {
    const qp = [...zip]
      .map((b) =>
        b >= 33 && b <= 126 && b !== 61
          ? String.fromCharCode(b)
          : `=${b.toString(16).toUpperCase().padStart(2, '0')}`,
      )
      .join('')
      // Hard breaks between escapes (no `=` before them): most decoders keep them as bytes.
      .replace(/((?:=[0-9A-F]{2}|[^=]){20})/g, '$1\r\n');
    const raw = BASE.replace('Caf=C3=A9 at noon, see the file.', qp);
    expect(canonical(raw)).toBeDefined();
    const x = await extract(raw);
    expect(x.files.find((f) => f.source === 'lenient' && f.detected?.ext === 'zip')?.bytes).toEqual(zip);
  });

  it('finds a file an html part carries as a base64 data: URI', async () => {
    const html = `<p>Your invoice:</p><a href="data:application/zip;base64,${zip.toString('base64')}">open</a>`;
    const raw = BASE.replace('text/plain; charset=utf-8', 'text/html; charset=utf-8').replace(
      'Caf=C3=A9 at noon, see the file.',
      html.replace(/=/g, '=3D'),
    );
    expect(canonical(raw)).toBeDefined();
    const x = await extract(raw);
    expect(x.files.map((f) => [f.source, f.detected?.ext])).toContainEqual(['lenient', 'zip']);
  });

  it('finds every uuencoded file written in a text part', async () => {
    const uu = (name: string, bytes: Buffer) => {
      const lines = [`begin 644 ${name}`];
      for (let i = 0; i < bytes.length; i += 45) {
        const chunk = bytes.subarray(i, i + 45);
        let line = String.fromCharCode(32 + chunk.length);
        for (let j = 0; j < chunk.length; j += 3) {
          const [a = 0, b = 0, c = 0] = chunk.subarray(j, j + 3);
          for (const v of [a >> 2, ((a << 4) | (b >> 4)) & 63, ((b << 2) | (c >> 6)) & 63, c & 63])
            line += String.fromCharCode(v ? 32 + v : 96);
        }
        lines.push(line);
      }
      return [...lines, '`', 'end'].join('\r\n');
    };
    const second = buildZip([{ name: 'other.txt', data: Buffer.from('not the first file') }]);
    const raw = `Subject: two files\r\n\r\nHere they are.\r\n\r\n${uu('a.zip', zip)}\r\n\r\n${uu('b.zip', second)}\r\n`;
    expect(canonical(raw)).toBeDefined();
    const names = (await extract(raw)).files.filter((f) => f.source === 'lenient').map((f) => f.name);
    expect(names).toEqual(['a.zip', 'b.zip']);
  });

  it('finds a part that only a boundary-guessing reader sees (the message is not canonical)', async () => {
    const raw = crlf([
      'Subject: guess',
      'MIME-Version: 1.0',
      '',
      '--guess',
      'Content-Type: application/zip; name="eicar.zip"',
      'Content-Transfer-Encoding: base64',
      '',
      zip.toString('base64'),
      '--guess--',
    ]);
    expect(canonical(raw)).toBeUndefined();
    const x = await extract(raw);
    expect(x.files.some((f) => f.source === 'lenient' && f.detected?.ext === 'zip')).toBe(true);
  });

  it('finds nothing more than mailparser does in what nodemailer writes', async () => {
    const raw = (
      await new MailComposer({
        from: 'a@example.org',
        to: 'b@example.com',
        subject: 'files',
        text: 'See attached.',
        html: '<p>See attached.</p>',
        attachments: [{ filename: 'a.zip', content: zip }],
      })
        .compile()
        .build()
    ).toString('latin1');
    const x = await extract(raw);
    expect(x.files.map((f) => [f.source, f.name])).toEqual([
      ['mime', 'a.zip'],
      ['archive', 'eicar.com'],
    ]);
  });
});
