// Files the project's test signatures (av/signatures) match, assembled at run time so the repository
// never holds a live test string, and a clamd of our own for the tests that need the real engine.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { type ClamdDaemon, startClamd } from '../../lambdas/adapters/clamd/clamd-daemon.ts';
import { buildZip } from './zip.ts';

/** The repository's signature folder. */
export const SIGNATURES_DIR = join(import.meta.dirname, '..', '..', 'av', 'signatures');

/** The EICAR test file, joined from two halves so no file here carries it whole. */
export const EICAR = Buffer.from(
  ['X5O!P%@AP[4\\PZX54(P^)7CC)7}$', 'EICAR-STANDARD-ANTIVIRUS-', 'TEST-FILE!$H+H*'].join(''),
  'latin1',
);

/** One harmless file per project test signature, with the name clamd reports (without .UNOFFICIAL). */
export const AV_SAMPLES = {
  eicar: { bytes: EICAR, signature: 'Seg.Test.EICAR' },
  marker: {
    bytes: Buffer.from(`report ${['SEG-AV-TEST', 'SIGNATURE:7f3c9a1e-do-not-deliver'].join('-')} end`),
    signature: 'Seg.Test.Marker',
  },
  hashed: {
    bytes: Buffer.from('seg antivirus hash-signature test file, harmless\n'),
    signature: 'Seg.Test.Hashed',
  },
  logical: {
    bytes: Buffer.from(`b=${'SEG-AV-LOGICAL'}-PART-TWO; a=${'SEG-AV-LOGICAL'}-PART-ONE`),
    signature: 'Seg.Test.Logical',
  },
} as const;

/** A clamd with the project's signatures in a fresh temporary folder; `stop()` also removes the folder. */
export async function startTestClamd(
  options: { tcpPort?: number; maxStreamBytes?: number } = {},
): Promise<ClamdDaemon & { readonly dir: string }> {
  // Short prefix: a unix socket path must stay under ~100 bytes.
  const dir = mkdtempSync(join(tmpdir(), 'seg-av-'));
  try {
    const daemon = await startClamd({ dir, signatureDirs: [SIGNATURES_DIR], ...options });
    return {
      ...daemon,
      dir,
      async stop() {
        await daemon.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** A message with these attachments, built by nodemailer's MIME composer (what a real client sends). */
export async function messageWith(
  attachments: readonly { filename: string; content: Buffer; contentType?: string }[],
  subject = 'files for you',
): Promise<Buffer> {
  const mail = new MailComposer({
    from: 'sender@partner.example',
    to: 'user@example.com',
    subject,
    text: 'Please see the attached files.',
    attachments: attachments.map((a) => ({ ...a })),
  });
  return mail.compile().build();
}

/** A minimal valid Word document (OOXML): content types, relationships and one paragraph. */
export function cleanDocx(text = 'Quarterly figures attached.'): Buffer {
  const xml = (body: string) =>
    Buffer.from(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n${body}`);
  return buildZip([
    {
      name: '[Content_Types].xml',
      data: xml(
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
      ),
    },
    {
      name: '_rels/.rels',
      data: xml(
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
      ),
    },
    {
      name: 'word/document.xml',
      data: xml(
        `<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>${text}</w:t></w:r></w:p></w:body></w:document>`,
      ),
    },
  ]);
}

/** A minimal valid one-page PDF with a line of text and a correct cross-reference table. */
export function cleanPdf(text = 'Invoice 2026-11: paid, thank you.'): Buffer {
  const stream = `BT /F1 12 Tf 72 720 Td (${text}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) out += `${String(o).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}
