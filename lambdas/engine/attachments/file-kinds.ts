// What kind of file a name or a true type is: executable, script, shortcut, disk image, archive,
// document. Lists follow what mail gateways and Outlook's Level 1 list block; they are data, and
// the config's `attachments.blockedExtensions` adds to them. Nothing here reads bytes.

import type { ExtractedFile } from './extract.ts';

/** Programs: run when opened. */
export const EXECUTABLE_EXTENSIONS = new Set([
  'exe',
  'com',
  'scr',
  'cpl',
  'pif',
  'msi',
  'msp',
  'mst',
  'dll',
  'sys',
  'ocx',
  'drv',
  'efi',
  'jar',
  'appx',
  'appxbundle',
  'msix',
  'msixbundle',
  'xbap',
  'application',
  'gadget',
  'elf',
  'apk',
  'xll',
  'msh',
  'mshxml',
  'appref-ms',
]);

/** Scripts Windows (or a shell) runs with an interpreter. */
export const SCRIPT_EXTENSIONS = new Set([
  'js',
  'jse',
  'vbs',
  'vbe',
  'wsf',
  'wsh',
  'wsc',
  'hta',
  'ps1',
  'ps1xml',
  'ps2',
  'psc1',
  'psm1',
  'bat',
  'cmd',
  'reg',
  'msc',
  'sct',
  'inf',
  'scf',
  'vb',
  'ws',
  'chm',
  'hlp',
  'mde',
  'accde',
  'ade',
  'adp',
  'iqy',
  'slk',
  'diagcab',
]);

/** Pointers that open something else: links to programs, shares or search locations. */
export const SHORTCUT_EXTENSIONS = new Set([
  'lnk',
  'url',
  'website',
  'library-ms',
  'searchconnector-ms',
  'settingcontent-ms',
  'desktop',
  'webloc',
  'scf',
  'appref-ms',
  'glk',
  'theme',
  'themepack',
  'rdp',
]);

/** Disk images mount as a drive, which hides their contents from Mark-of-the-Web. */
export const DISK_IMAGE_EXTENSIONS = new Set(['iso', 'img', 'vhd', 'vhdx', 'dmg', 'udf', 'wim', 'vmdk']);

/** Archives by name and by true type (file-type's extension). */
export const ARCHIVE_EXTENSIONS = new Set([
  'zip',
  'rar',
  '7z',
  'gz',
  'tgz',
  'tar',
  'bz2',
  'xz',
  'z',
  'cab',
  'ace',
  'arj',
  'lzh',
  'lha',
  'zst',
  'lz',
  'lz4',
  'cpio',
  'zipx',
  'r00',
  'uue',
  'xxe',
  'tar.gz',
]);

/** Archive types extraction opens itself; the others are identified only. */
export const OPENED_ARCHIVE_TYPES = new Set(['zip', 'gz', 'tar', 'tar.gz']);

/** Types whose name extension may legitimately differ from file-type's answer (zip-based, text-based). */
const ZIP_BASED = new Set([
  'zip',
  'docx',
  'xlsx',
  'pptx',
  'docm',
  'xlsm',
  'pptm',
  'dotx',
  'dotm',
  'xltx',
  'xltm',
  'potx',
  'potm',
  'ppsx',
  'ppsm',
  'odt',
  'ods',
  'odp',
  'odg',
  'ott',
  'ots',
  'otp',
  'otg',
  'epub',
  'jar',
  'apk',
  'xpi',
  'vsdx',
  'kmz',
  'crx',
  '3mf',
  'appx',
  'msix',
  'nupkg',
  'ipa',
  'whl',
  'key',
  'numbers',
  'pages',
  'xps',
]);
const OLE_BASED = new Set([
  'doc',
  'xls',
  'ppt',
  'dot',
  'xlt',
  'pot',
  'pps',
  'msg',
  'msi',
  'msp',
  'mst',
  'vsd',
  'pub',
  'cfb',
  'one',
  'xla',
  'ppa',
  'wps',
]);
const SYNONYMS: Record<string, readonly string[]> = {
  jpg: ['jpeg', 'jpe', 'jfif'],
  tif: ['tiff'],
  gz: ['tgz', 'gzip'],
  'tar.gz': ['tgz', 'gz'],
  mp4: ['m4v', 'm4a'],
  exe: ['dll', 'scr', 'cpl', 'com', 'sys', 'ocx', 'drv', 'efi', 'pif', 'xll', 'mui', 'ax'],
  xml: ['svg', 'xsl', 'xslt', 'rss', 'atom', 'plist', 'kml', 'gpx', 'xaml', 'config', 'csproj'],
  ics: ['ical', 'ifb', 'vcs'],
  vcf: ['vcard'],
  eps: ['ps', 'ai'],
  ps: ['eps', 'ai'],
  ai: ['pdf'],
  pdf: ['ai'],
  zip: [...ZIP_BASED],
  cfb: [...OLE_BASED],
  msi: [...OLE_BASED],
};

/** The last extension of a file name, lowercase, without the dot ('' when none). */
export function extensionOf(name: string): string {
  const base =
    name
      .replace(/[\s.]+$/, '')
      .split(/[/\\]/)
      .pop() ?? '';
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : '';
}

/** The name as a person sees it: bidi controls and trailing junk removed. */
export function visibleName(name: string): string {
  return name.replace(/[\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '');
}

/** True when `ext` (from the name) is an acceptable name for a file whose true type is `detected`. */
export function extensionFits(ext: string, detected: string): boolean {
  if (ext === detected) return true;
  if (SYNONYMS[detected]?.includes(ext)) return true;
  if (ZIP_BASED.has(detected) && ZIP_BASED.has(ext)) return true;
  if ((detected === 'cfb' || OLE_BASED.has(detected)) && OLE_BASED.has(ext)) return true;
  return false;
}

export type RiskKind = 'executable' | 'script' | 'shortcut' | 'disk-image';

/** Why a file is risky to open, by its true type first and its name second. */
export function riskOf(file: Pick<ExtractedFile, 'name' | 'detected'>): RiskKind | undefined {
  const t = file.detected?.ext;
  if (t === 'exe' || t === 'elf' || t === 'macho' || t === 'class' || t === 'apk' || t === 'jar')
    return 'executable';
  if (t === 'msi') return 'executable';
  if (t === 'iso' || t === 'dmg') return 'disk-image';
  if (t === 'lnk') return 'shortcut';
  if (t === 'reg' || t === 'chm') return 'script';
  const ext = extensionOf(visibleName(file.name));
  if (EXECUTABLE_EXTENSIONS.has(ext)) return 'executable';
  if (SCRIPT_EXTENSIONS.has(ext)) return 'script';
  if (SHORTCUT_EXTENSIONS.has(ext)) return 'shortcut';
  if (DISK_IMAGE_EXTENSIONS.has(ext)) return 'disk-image';
  return undefined;
}

/** Risky by name alone (for entries we could list but not read, e.g. inside an encrypted zip). */
export function riskOfName(name: string): RiskKind | undefined {
  return riskOf({ name });
}

/** Document-looking extensions a double extension hides behind (`invoice.pdf.exe`). */
const DECOY_EXTENSIONS = new Set([
  'pdf',
  'doc',
  'docx',
  'xls',
  'xlsx',
  'ppt',
  'pptx',
  'txt',
  'rtf',
  'jpg',
  'jpeg',
  'png',
  'gif',
  'bmp',
  'htm',
  'html',
  'csv',
  'odt',
  'zip',
  'rar',
  'mp3',
  'mp4',
  'avi',
  'wav',
  'eml',
  'msg',
  'xml',
  'tif',
  'tiff',
]);

/** `invoice.pdf.exe`, or a document extension followed by a long run of spaces before the real one. */
export function hasDoubleExtension(name: string): boolean {
  const base = visibleName(name).split(/[/\\]/).pop() ?? '';
  const m = /\.([A-Za-z0-9]{2,5})([\s_]*)\.([A-Za-z0-9-]{2,20})$/.exec(base);
  if (!m) return false;
  const [, decoy = '', gap = '', real = ''] = m;
  const risky = riskOfName(`x.${real}`) !== undefined;
  return risky && (DECOY_EXTENSIONS.has(decoy.toLowerCase()) || gap.length >= 3);
}

/** A bidi control (right-to-left override and friends) in a name: `invoice\u202Efdp.exe` shows as `invoiceexe.pdf`. */
export function hasBidiControl(name: string): boolean {
  return /[\u200e\u200f\u202a-\u202e\u2066-\u2069]/.test(name);
}
