import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { officeText } from '../../../../lambdas/engine/scanners/dlp/office-text.ts';
import { pdfText } from '../../../../lambdas/engine/scanners/dlp/pdf-text.ts';
import { dlp } from '../../../../lambdas/engine/scanners/dlp.ts';
import { buildZip, type ZipEntry } from '../../../support/zip.ts';

const zip = (entries: readonly (Omit<ZipEntry, 'data'> & { data: string })[]) =>
  buildZip(entries.map((e) => ({ ...e, data: Buffer.from(e.data) })));

import { ctxFrom, eml, fixture, inputFrom, testConfig } from '../../helpers.ts';

const CARD = '4111 1111 1111 1111';
const CARD_DIGITS = '4111111111111111';

/** A multipart message with one attachment, base64-encoded. */
function withAttachment(
  body: string,
  filename: string,
  contentType: string,
  content: Buffer | string,
): string {
  const b64 = Buffer.from(content).toString('base64').replace(/.{76}/g, '$&\r\n');
  return [
    'From: alice@example.com',
    'To: bob@partner.example',
    'Subject: the file',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain; charset=utf-8',
    '',
    body,
    '--b1',
    `Content-Type: ${contentType}; name="${filename}"`,
    `Content-Disposition: attachment; filename="${filename}"`,
    'Content-Transfer-Encoding: base64',
    '',
    b64,
    '--b1--',
    '',
  ].join('\r\n');
}

/** A one-page PDF whose content stream shows `text`, Flate-compressed when asked. */
function pdf(text: string, flate: boolean): Buffer {
  const content = Buffer.from(`BT /F1 12 Tf 72 720 Td (${text.replace(/[()\\]/g, '\\$&')}) Tj ET`);
  const data = flate ? deflateSync(content) : content;
  const filter = flate ? ' /Filter /FlateDecode' : '';
  return Buffer.concat([
    Buffer.from(
      `%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n4 0 obj\n<< /Length ${data.length}${filter} >>\nstream\n`,
    ),
    data,
    Buffer.from('\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n'),
  ]);
}

const docx = (text: string) =>
  zip([
    { name: '[Content_Types].xml', data: '<Types/>' },
    {
      name: 'word/document.xml',
      // The number split across runs, as Word writes it after an edit.
      data: `<w:document><w:body><w:p><w:r><w:t>Card: ${text.slice(0, 9)}</w:t></w:r><w:r><w:t>${text.slice(9)}</w:t></w:r></w:p></w:body></w:document>`,
    },
  ]);

async function scan(raw: string, config = testConfig()) {
  return dlp.scan(await inputFrom(raw), ctxFrom(config));
}

describe('dlp scanner', () => {
  it('emits DLP_CARD_NUMBER for the card-in-body fixture', async () => {
    const findings = await dlp.scan(await inputFrom(fixture('dlp-card-in-body.eml')), ctxFrom());
    expect(findings).toEqual([
      { symbol: 'DLP_CARD_NUMBER', evidence: 'visa ************1111 in text (1 found)' },
    ]);
  });

  it('emits DLP_CARD_NUMBER when a card number is in the text body', async () => {
    const findings = await scan(eml({ From: 'a@example.com', Subject: 'order' }, `My card is ${CARD}.`));
    expect(findings).toEqual([
      { symbol: 'DLP_CARD_NUMBER', evidence: 'visa ************1111 in text (1 found)' },
    ]);
  });

  it('emits DLP_CARD_NUMBER when a card number is in the subject', async () => {
    const findings = await scan(eml({ From: 'a@example.com', Subject: `card ${CARD}` }, 'see subject'));
    expect(findings.map((f) => f.evidence)).toEqual(['visa ************1111 in subject (1 found)']);
  });

  it('finds a card number in an html-only body inside multipart/mixed (no text part to search)', async () => {
    const raw = [
      'From: a@example.com',
      'To: b@partner.example',
      'Subject: details',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="mix"',
      '',
      '--mix',
      'Content-Type: text/html; charset=utf-8',
      '',
      `<p>Card for the booking: ${CARD}</p>`,
      '--mix',
      'Content-Type: application/octet-stream; name="notes.bin"',
      'Content-Disposition: attachment; filename="notes.bin"',
      '',
      'AAAA',
      '--mix--',
      '',
    ].join('\r\n');
    expect((await scan(raw)).map((f) => f.symbol)).toEqual(['DLP_CARD_NUMBER']);
  });

  it('searches the text of the HTML body when it differs from the text part', async () => {
    const raw = [
      'From: a@example.com',
      'Subject: x',
      'MIME-Version: 1.0',
      'Content-Type: multipart/alternative; boundary="alt"',
      '',
      '--alt',
      'Content-Type: text/plain',
      '',
      'nothing here',
      '--alt',
      'Content-Type: text/html',
      '',
      '<p>SSN</p><p>123-45-6789</p><script>var x="4111111111111111"</script>',
      '--alt--',
      '',
    ].join('\r\n');
    expect((await scan(raw)).map((f) => [f.symbol, f.evidence])).toEqual([
      ['DLP_US_SSN', '***-**-**89 in html (1 found)'],
    ]);
  });

  it.each([
    ['cards.csv', 'text/csv', `name,card\nBob,${CARD}\n`],
    ['cards.txt', 'application/octet-stream', `card ${CARD}`],
    ['page.html', 'text/html', `<table><tr><td>card</td><td>${CARD}</td></tr></table>`],
    ['cards.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', docx(CARD)],
    [
      'cards.xlsx',
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      zip([{ name: 'xl/sharedStrings.xml', data: `<sst><si><t>card</t></si><si><t>${CARD}</t></si></sst>` }]),
    ],
    [
      'deck.pptx',
      'application/vnd.openxmlformats-officedocument.presentationml.presentation',
      zip([
        {
          name: 'ppt/slides/slide1.xml',
          data: `<p:sld><a:p><a:r><a:t>card ${CARD}</a:t></a:r></a:p></p:sld>`,
        },
      ]),
    ],
    ['plain.pdf', 'application/pdf', pdf(`card ${CARD}`, false)],
    ['flate.pdf', 'application/pdf', pdf(`card ${CARD}`, true)],
  ])('finds a card number inside the attachment %s', async (name, type, content) => {
    const findings = await scan(withAttachment('see attached', name, type, content));
    expect(findings).toEqual([
      { symbol: 'DLP_CARD_NUMBER', evidence: `visa ************1111 in attachment ${name} (1 found)` },
    ]);
  });

  it('never puts the full secret in its evidence', async () => {
    const secrets = [CARD_DIGITS, 'DE89370400440532013000', '536228419', 'AKIA2E3G5HJ7KLMNP4QR'];
    const body = `card ${CARD}\nIBAN DE89 3704 0044 0532 0130 00\nSSN: 536228419\nkey AKIA2E3G5HJ7KLMNP4QR\n`;
    const findings = await scan(withAttachment(body, 'copy.txt', 'text/plain', body));
    expect(findings.map((f) => f.symbol).sort()).toEqual([
      'DLP_AWS_ACCESS_KEY',
      'DLP_CARD_NUMBER',
      'DLP_IBAN',
      'DLP_US_SSN',
    ]);
    const text = JSON.stringify(findings).replace(/\D+/g, '');
    for (const s of secrets) {
      expect(JSON.stringify(findings)).not.toContain(s);
      expect(text).not.toContain(s.replace(/\D/g, '').slice(0, 9));
    }
  });

  it('counts configured rules against their minimum and names the rule only', async () => {
    const config = testConfig({
      dlp: {
        dictionaries: [{ name: 'project-x', words: ['Project Falcon', 'falcon-7'], minMatches: 2 }],
        regexes: [{ name: 'contract id', pattern: 'CT-\\d{6}', minMatches: 1 }],
        nationalIds: [{ name: 'BR CPF', pattern: '\\d{3}\\.\\d{3}\\.\\d{3}-\\d{2}', contextWords: ['CPF'] }],
      },
    });
    const once = await scan(eml({ Subject: 'x' }, 'About project falcon. Contract CT-123456.'), config);
    expect(once.map((f) => f.symbol)).toEqual(['DLP_REGEX']);
    expect(once[0]?.evidence).toBe('rule contract id in text (1 found)');
    const twice = await scan(
      eml({ Subject: 'Project Falcon' }, 'falcon-7 ships. CPF 123.456.789-09'),
      config,
    );
    expect(twice.map((f) => [f.symbol, f.evidence])).toEqual([
      ['DLP_DICTIONARY', 'rule project-x in subject, text (2 found)'],
      ['DLP_NATIONAL_ID', 'rule BR CPF in text (1 found)'],
    ]);
    const noContext = await scan(eml({ Subject: 'x' }, 'ref 123.456.789-09'), config);
    expect(noContext).toEqual([]);
  });

  it('emits DLP_TRUNCATED when an attachment is over the size limit, and does not open it', async () => {
    const config = testConfig({ dlp: { maxAttachmentBytes: 100 } });
    const findings = await scan(
      withAttachment('hi', 'big.csv', 'text/csv', `card,${CARD}\n`.repeat(20)),
      config,
    );
    expect(findings).toEqual([{ symbol: 'DLP_TRUNCATED', evidence: 'attachment big.csv over 100 bytes' }]);
  });

  it('stops at the character budget and says so', async () => {
    const config = testConfig({ dlp: { maxScanChars: 50 } });
    const findings = await scan(eml({ Subject: 'x' }, `${'a'.repeat(60)} card ${CARD}`), config);
    expect(findings.map((f) => f.symbol)).toEqual(['DLP_TRUNCATED']);
  });

  it('emits nothing for an ordinary message with an image attachment', async () => {
    const findings = await scan(
      withAttachment('photo attached', 'cat.png', 'image/png', Buffer.alloc(64, 7)),
    );
    expect(findings).toEqual([]);
  });
});

describe('officeText', () => {
  it('reports truncated for a part whose inflated size exceeds what it declares (a bomb)', async () => {
    const bomb = zip([{ name: 'word/document.xml', data: 'a'.repeat(100_000), declaredSize: 10 }]);
    const result = await officeText(bomb);
    expect(result.truncated).toBe(true);
    expect(result.text.length).toBeLessThanOrEqual(10);
  });

  it('reports truncated, not an error, for bytes that are no zip', async () => {
    expect(await officeText(Buffer.from('not a zip at all'))).toEqual({ text: '', truncated: true });
  });
});

describe('pdfText', () => {
  it('reads TJ arrays and escaped characters', () => {
    const content = Buffer.from('BT [(Acc) -20 (ount\\051)] TJ (two\\\\) Tj ET');
    const doc = Buffer.concat([
      Buffer.from('<< /Length 1 >>\nstream\n'),
      content,
      Buffer.from('\nendstream'),
    ]);
    expect(pdfText(doc)).toEqual({ text: 'Account) two\\', truncated: false });
  });

  it('reports truncated for a stream that inflates beyond its cap', () => {
    const bomb = deflateSync(Buffer.alloc(30 * 1024 * 1024));
    const doc = Buffer.concat([
      Buffer.from('<< /Filter /FlateDecode >>\nstream\n'),
      bomb,
      Buffer.from('\nendstream'),
    ]);
    expect(pdfText(doc)).toEqual({ text: '', truncated: true });
  });
});
