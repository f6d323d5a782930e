// Active content inside documents: Office macros (OOXML vbaProject.bin, OLE VBA storages), OneNote
// embedded files, PDF JavaScript/Launch/auto actions/embedded files, HTML attachments that smuggle
// files, hold forms or run scripts, calendar invites with links, shortcut files pointing somewhere.

import { extractionOf, fileRef } from '../attachments/extraction-of.ts';
import { FileFindings } from '../attachments/findings.ts';
import {
  calendarSigns,
  htmlSigns,
  isHtml,
  isMacroMember,
  isOneNote,
  isPdf,
  oleHasMacros,
  oneNoteEmbeddedCount,
  pdfNames,
  shortcutTarget,
} from '../attachments/inspect.ts';
import type { Scanner } from '../scanner.ts';

// Macro-enabled OOXML by true type (file-type reads the content types part).
const MACRO_OOXML = new Set(['docm', 'xlsm', 'pptm', 'dotm', 'xltm', 'potm', 'ppsm']);

export const attachmentContent: Scanner = {
  name: 'attachment-content',
  family: 'ATTACHMENT',
  reads: 'raw',
  async scan(input, ctx) {
    const { files } = await extractionOf(input, ctx);
    const out = new FileFindings();
    for (const f of files) {
      const ref = fileRef(f);
      const t = f.detected?.ext;
      if (t === 'cfb' && oleHasMacros(f.bytes)) out.add('ATTACHMENT_OFFICE_MACRO', ref, 'VBA storage');
      if (isMacroMember(f.name) && f.path.length > 0) {
        // Name the document that holds the macro project, not its internal member.
        const doc = files.find((d) => [...d.path, d.name].join('/') === f.path.join('/'));
        out.add('ATTACHMENT_OFFICE_MACRO', doc ? fileRef(doc) : ref, `${f.name} inside`);
      } else if (t && MACRO_OOXML.has(t)) out.add('ATTACHMENT_OFFICE_MACRO', ref, 'macro-enabled type');
      if (isOneNote(f)) {
        const n = oneNoteEmbeddedCount(f.bytes);
        if (n > 0) out.add('ATTACHMENT_ONENOTE_EMBEDDED', ref, `${n} embedded file${n > 1 ? 's' : ''}`);
      }
      if (isPdf(f)) {
        const pdf = pdfNames(f.bytes);
        if (pdf.javascript)
          out.add('ATTACHMENT_PDF_JAVASCRIPT', ref, `/JavaScript or /JS x${pdf.javascript}`);
        if (pdf.launch) out.add('ATTACHMENT_PDF_LAUNCH', ref, `/Launch x${pdf.launch}`);
        if (pdf.openAction || pdf.aa)
          out.add('ATTACHMENT_PDF_AUTO_ACTION', ref, `/OpenAction x${pdf.openAction}, /AA x${pdf.aa}`);
        if (pdf.embeddedFile)
          out.add('ATTACHMENT_PDF_EMBEDDED_FILE', ref, `/EmbeddedFile x${pdf.embeddedFile}`);
      } else if (isHtml(f)) {
        const h = htmlSigns(f.bytes);
        if (h.smuggling) out.add('ATTACHMENT_HTML_SMUGGLING', ref);
        if (h.form || h.password)
          out.add('ATTACHMENT_HTML_FORM', ref, h.password ? 'password field' : 'form');
        if (h.script || h.obfuscated || h.redirect) {
          out.add(
            'ATTACHMENT_HTML_SCRIPT',
            ref,
            h.obfuscated ? 'obfuscated script' : h.redirect ? 'redirect' : 'script',
          );
        }
      }
      const ics = calendarSigns(f);
      if (ics && (ics.urls > 0 || ics.attach)) {
        out.add(
          'ATTACHMENT_CALENDAR_LINKS',
          ref,
          `${ics.urls} link${ics.urls === 1 ? '' : 's'}${ics.attach ? ', ATTACH' : ''}`,
        );
      }
      const target = shortcutTarget(f);
      if (target && /^(file:|\\\\|smb:|search-ms:|ms-|javascript:|[a-z]:\\)/i.test(target)) {
        out.add('ATTACHMENT_SHORTCUT', ref, `points to ${target.slice(0, 80)}`);
      }
    }
    return out.list();
  },
};
