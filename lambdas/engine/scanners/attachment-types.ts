// What each file is, by magic bytes and by name: programs, scripts, shortcuts and disk images, the
// config's blocked types, names that disguise their extension (double extension, bidi override), a true
// type that contradicts the name or declared type, and risky files only a lenient MIME reading finds.

import { extractionOf, fileRef } from '../attachments/extraction-of.ts';
import {
  ARCHIVE_EXTENSIONS,
  extensionFits,
  extensionOf,
  hasBidiControl,
  hasDoubleExtension,
  type RiskKind,
  riskOf,
  riskOfName,
  visibleName,
} from '../attachments/file-kinds.ts';
import { FileFindings } from '../attachments/findings.ts';
import { diskImageKind } from '../attachments/inspect.ts';
import type { Scanner } from '../scanner.ts';
import type { SymbolName } from '../symbols.ts';

const RISK_SYMBOL: Record<RiskKind, SymbolName> = {
  executable: 'ATTACHMENT_EXECUTABLE',
  script: 'ATTACHMENT_SCRIPT',
  shortcut: 'ATTACHMENT_SHORTCUT',
  'disk-image': 'ATTACHMENT_DISK_IMAGE',
};

// Declared types too generic to contradict anything.
const GENERIC_TYPES = new Set([
  '',
  'application/octet-stream',
  'application/x-download',
  'application/force-download',
  'binary/octet-stream',
  'application/unknown',
]);

export const attachmentTypes: Scanner = {
  name: 'attachment-types',
  family: 'ATTACHMENT',
  reads: 'raw',
  async scan(input, ctx) {
    const { files, listings } = await extractionOf(input, ctx);
    const out = new FileFindings();
    const blocked = new Set(ctx.attachments.blockedExtensions);
    for (const f of files) {
      const ref = fileRef(f);
      const disk = f.detected ? undefined : diskImageKind(f.bytes);
      const risk = disk ? 'disk-image' : riskOf(f);
      // An Internet shortcut to a web page is a bookmark; attachment-content flags one that points to a
      // file, a share or a protocol handler.
      const webShortcut =
        risk === 'shortcut' &&
        /^(url|website)$/.test(extensionOf(f.name)) &&
        /^URL\s*=\s*https?:/im.test(Buffer.from(f.bytes.subarray(0, 4096)).toString('latin1'));
      if (risk && !webShortcut) out.add(RISK_SYMBOL[risk], ref, disk ? `${disk} image` : '');
      const ext = extensionOf(visibleName(f.name));
      if (blocked.has(ext) || (f.detected && blocked.has(f.detected.ext)) || (disk && blocked.has(disk))) {
        out.add('ATTACHMENT_BLOCKED_TYPE', ref);
      }
      if (hasBidiControl(f.name)) out.add('ATTACHMENT_RTLO_NAME', ref, `shows as "${visibleName(f.name)}"`);
      if (hasDoubleExtension(f.name)) out.add('ATTACHMENT_DOUBLE_EXTENSION', ref);
      const t = f.detected?.ext;
      if (t && ext && !extensionFits(ext, t)) out.add('ATTACHMENT_TYPE_MISMATCH', ref, `named .${ext}`);
      else if (t && !GENERIC_TYPES.has(f.declaredType) && declaredContradicts(f.declaredType, t)) {
        out.add('ATTACHMENT_TYPE_MISMATCH', ref, `declared ${f.declaredType}`);
      }
      // Parsers disagree when the lenient reading finds what mailparser's does not (a mere re-decode of
      // the same attachment, same name and type, is no disagreement).
      const agreed = files.some((m) => m.source === 'mime' && m.name === f.name && m.detected?.ext === t);
      if (f.source === 'lenient' && !agreed && (risk || (t && ARCHIVE_EXTENSIONS.has(t)))) {
        out.add('ATTACHMENT_AMBIGUOUS_MIME', ref, 'found only by a lenient MIME reading');
      }
    }
    // Entries we listed but could not read (encrypted, over a limit) still have names.
    const read = new Set(files.map((f) => `${f.path.join('/')}/${f.name}`));
    for (const l of listings) {
      for (const name of l.names) {
        if (read.has(`${l.path.join('/')}/${name}`)) continue;
        const risk = riskOfName(name);
        const ref = { name, type: 'unknown', sha256: '', path: l.path };
        if (risk) out.add(RISK_SYMBOL[risk], ref, 'not readable, judged by name');
        if (blocked.has(extensionOf(visibleName(name)))) out.add('ATTACHMENT_BLOCKED_TYPE', ref, 'by name');
        if (hasBidiControl(name)) out.add('ATTACHMENT_RTLO_NAME', ref, `shows as "${visibleName(name)}"`);
        if (hasDoubleExtension(name)) out.add('ATTACHMENT_DOUBLE_EXTENSION', ref);
      }
    }
    return out.list();
  },
};

/** A declared MIME type that names a different family than the true type (image/* that is a program). */
function declaredContradicts(declared: string, trueExt: string): boolean {
  const [top] = declared.split('/');
  const program = ['exe', 'elf', 'macho', 'msi', 'jar', 'class', 'lnk'].includes(trueExt);
  if (program) return true;
  if (top === 'image' || top === 'audio' || top === 'video') {
    return ['pdf', 'zip', 'rar', '7z', 'gz', 'cfb', 'docx', 'xlsx', 'pptx', 'iso', 'html'].includes(trueExt);
  }
  if (declared === 'application/pdf') return trueExt !== 'pdf' && trueExt !== 'ai';
  return false;
}
