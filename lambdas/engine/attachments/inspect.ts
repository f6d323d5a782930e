// Looks inside the file formats that carry active content: PDF (pdfid-style name counting, hex escapes
// decoded), Office (OOXML vbaProject.bin, OLE compound files with a VBA storage), OneNote (embedded
// files), HTML (forms, scripts, smuggling), calendars and Windows shortcut/search files. Each check
// reads at most a bounded prefix of the bytes and returns what it saw; scanners turn that into symbols.

import CFB from 'cfb';
import type { ExtractedFile } from './extract.ts';
import { extensionOf } from './file-kinds.ts';

// Active-content keywords sit in object dictionaries, which a hostile PDF can put anywhere; 8 MB covers
// ordinary documents while bounding the regex work per file.
const MAX_TEXT_SCAN_BYTES = 8 * 1024 * 1024;

const text = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, MAX_TEXT_SCAN_BYTES)).toString(
    'latin1',
  );

/** PDF name counts, as pdfid reports them; `/J#61vaScript` counts as /JavaScript. */
export interface PdfNames {
  readonly javascript: number;
  readonly launch: number;
  readonly openAction: number;
  readonly embeddedFile: number;
  readonly aa: number;
}

export function pdfNames(bytes: Uint8Array): PdfNames {
  const counts = { javascript: 0, launch: 0, openAction: 0, embeddedFile: 0, aa: 0 };
  for (const m of text(bytes).matchAll(/\/([A-Za-z0-9#]{1,40})/g)) {
    const name = (m[1] ?? '').replace(/#([0-9A-Fa-f]{2})/g, (_h, hex: string) =>
      String.fromCharCode(Number.parseInt(hex, 16)),
    );
    if (name === 'JavaScript' || name === 'JS') counts.javascript++;
    else if (name === 'Launch') counts.launch++;
    else if (name === 'OpenAction') counts.openAction++;
    else if (name === 'EmbeddedFile' || name === 'EmbeddedFiles') counts.embeddedFile++;
    else if (name === 'AA') counts.aa++;
  }
  return counts;
}

/** True when the file is a PDF by magic bytes (the header may sit anywhere in the first KB). */
export function isPdf(file: Pick<ExtractedFile, 'bytes' | 'detected'>): boolean {
  return file.detected?.ext === 'pdf' || text(file.bytes.subarray(0, 1024)).includes('%PDF-');
}

/** The VBA project an OLE compound file (doc, xls, ppt, msg) carries, if any. */
export function oleHasMacros(bytes: Uint8Array): boolean {
  try {
    const cfb = CFB.read(Buffer.from(bytes), { type: 'buffer' });
    return cfb.FullPaths.some(
      (p) =>
        /(^|\/)(_VBA_PROJECT|VBA\/dir|Macros\/|_VBA_PROJECT_CUR\/)/i.test(p) || /\/vbaProject\.bin$/i.test(p),
    );
  } catch {
    return false;
  }
}

/** An OOXML member that holds macros, by its entry name inside the zip. */
export function isMacroMember(name: string): boolean {
  return /(^|\/)vbaProject\.bin$/i.test(name) || /(^|\/)vbaData\.xml$/i.test(name);
}

// OneNote's FileDataStoreObject header GUID {BDE316E7-2665-4511-A4C4-8D4D0B7A9EAC}, as stored on disk:
// every embedded file in a .one section starts with it.
const ONENOTE_SECTION = Buffer.from('e4525c7b8cd8a74daeb15378d02996d3', 'hex');
const ONENOTE_EMBEDDED = Buffer.from('e716e3bd65261145a4c48d4d0b7a9eac', 'hex');

/** A OneNote section, by its header GUID. */
export function isOneNote(file: Pick<ExtractedFile, 'bytes' | 'name'>): boolean {
  return Buffer.from(file.bytes.subarray(0, 16)).equals(ONENOTE_SECTION) || extensionOf(file.name) === 'one';
}

/** Files embedded in a OneNote section. */
export function oneNoteEmbeddedCount(bytes: Uint8Array): number {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let n = 0;
  for (
    let at = buf.indexOf(ONENOTE_EMBEDDED);
    at >= 0 && n < 1000;
    at = buf.indexOf(ONENOTE_EMBEDDED, at + 16)
  )
    n++;
  return n;
}

export interface HtmlSigns {
  readonly form: boolean;
  readonly password: boolean;
  readonly script: boolean;
  /** atob/Blob/msSaveBlob/createObjectURL/data: download: the file is built in the browser. */
  readonly smuggling: boolean;
  /** eval/unescape/fromCharCode/document.write over long encoded strings. */
  readonly obfuscated: boolean;
  /** A meta refresh or location change that sends the reader elsewhere on open. */
  readonly redirect: boolean;
}

export function isHtml(file: Pick<ExtractedFile, 'name' | 'declaredType' | 'bytes'>): boolean {
  const ext = extensionOf(file.name);
  if (['htm', 'html', 'xhtml', 'shtml', 'mht', 'mhtml', 'svg', 'hta'].includes(ext)) return true;
  if (file.declaredType === 'text/html' || file.declaredType === 'image/svg+xml') return true;
  return /^\s*(<!doctype html|<html|<svg)/i.test(text(file.bytes.subarray(0, 512)));
}

export function htmlSigns(bytes: Uint8Array): HtmlSigns {
  const s = text(bytes);
  return {
    form: /<form\b/i.test(s),
    password: /<input\b[^>]{0,200}type\s*=\s*["']?password/i.test(s),
    script: /<script\b/i.test(s) || /\bon(load|error|click|mouseover)\s*=/i.test(s),
    smuggling:
      /\b(msSaveOrOpenBlob|msSaveBlob|createObjectURL)\b/.test(s) ||
      (/\bnew\s+Blob\s*\(/.test(s) && /\batob\s*\(/.test(s)) ||
      /<a\b[^>]{0,500}\bdownload\b[^>]{0,500}href\s*=\s*["']?data:/i.test(s) ||
      /href\s*=\s*["']?data:application\/(octet-stream|zip|x-)/i.test(s),
    obfuscated:
      /\b(eval|unescape|String\.fromCharCode|document\.write)\s*\(/.test(s) &&
      /[A-Za-z0-9+/%\\x]{400,}/.test(s),
    redirect:
      /<meta[^>]{0,200}http-equiv\s*=\s*["']?refresh/i.test(s) ||
      /\b(window\.|document\.)?location(\.href)?\s*=\s*["'`]https?:/i.test(s),
  };
}

/** A calendar file (.ics) and the URLs or attachments it carries. */
export function calendarSigns(
  file: Pick<ExtractedFile, 'name' | 'detected' | 'declaredType' | 'bytes'>,
): { readonly urls: number; readonly attach: boolean } | undefined {
  const ext = extensionOf(file.name);
  const isIcs = file.detected?.ext === 'ics' || ext === 'ics' || file.declaredType === 'text/calendar';
  if (!isIcs) return undefined;
  const s = text(file.bytes);
  return {
    urls: (s.match(/https?:\/\/[^\s"'<>]+/gi) ?? []).length,
    attach: /^ATTACH[;:]/im.test(s),
  };
}

/**
 * Windows shortcut and search files that point somewhere: a .url to file:// or a UNC share, a
 * .library-ms/.searchConnector-ms with a remote location, a .settingcontent-ms with a command.
 */
export function shortcutTarget(file: Pick<ExtractedFile, 'name' | 'bytes'>): string | undefined {
  const ext = extensionOf(file.name);
  const s = text(file.bytes.subarray(0, 64 * 1024));
  if (ext === 'url' || ext === 'website') {
    return /^URL\s*=\s*(\S{1,300})/im.exec(s)?.[1];
  }
  if (ext === 'library-ms' || ext === 'searchconnector-ms') {
    return (
      /<url>\s*([^<]{1,300})<\/url>/i.exec(s)?.[1] ??
      /<simpleLocation>[\s\S]{0,200}?<url>([^<]{1,300})/i.exec(s)?.[1]
    );
  }
  if (ext === 'settingcontent-ms') return /<DeepLink>\s*([^<]{1,300})/i.exec(s)?.[1];
  return undefined;
}

/** Disk image formats file-type does not know: raw FAT/NTFS images, VHD (footer "conectix"), VHDX. */
export function diskImageKind(bytes: Uint8Array): string | undefined {
  const head = Buffer.from(bytes.subarray(0, 8)).toString('latin1');
  if (head === 'vhdxfile') return 'vhdx';
  if (head === 'conectix') return 'vhd';
  if (bytes.length >= 512) {
    const tail = Buffer.from(bytes.subarray(bytes.length - 512, bytes.length - 504)).toString('latin1');
    if (tail === 'conectix') return 'vhd';
  }
  if (bytes.length > 0x8006 && Buffer.from(bytes.subarray(0x8001, 0x8006)).toString('latin1') === 'CD001')
    return 'iso';
  const oem = Buffer.from(bytes.subarray(3, 11)).toString('latin1');
  if (bytes[510] === 0x55 && bytes[511] === 0xaa && /^(NTFS|MSDOS|MSWIN|mkfs\.fat|EXFAT)/.test(oem))
    return 'img';
  return undefined;
}
