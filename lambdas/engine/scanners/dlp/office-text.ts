// Text of Office Open XML files (docx, xlsx, pptx): they are zip archives of XML, so the text is the
// character data of the parts that hold it. Listed with yauzl under entry, size and total limits; a
// zip bomb or a corrupt archive ends the read with `truncated`, never an unbounded inflate.

import yauzl from 'yauzl';

/** The XML parts that carry visible text: body, headers/footers, notes, cells, slides. */
const TEXT_PARTS =
  /^(?:word\/(?:document|header\d*|footer\d*|footnotes|endnotes|comments)\.xml|xl\/sharedStrings\.xml|xl\/worksheets\/sheet\d+\.xml|ppt\/(?:slides\/slide\d+|notesSlides\/notesSlide\d+)\.xml)$/;
// Real documents have tens to hundreds of entries; 5000 bounds the central directory walk.
const MAX_ENTRIES = 5000;
// Text parts of even large documents are a few MB of XML; 20 MB per part and 50 MB in all stop bombs.
const MAX_PART_BYTES = 20 * 1024 * 1024;
const MAX_TOTAL_BYTES = 50 * 1024 * 1024;

export interface ExtractedText {
  readonly text: string;
  /** True when a limit stopped the read or the archive was damaged: part of the file was not searched. */
  readonly truncated: boolean;
}

/** XML to text: paragraph, row and cell ends become breaks; runs inside a paragraph join directly. */
export function xmlText(xml: string): string {
  return xml
    .replace(/<\/(?:w:p|a:p|row|si)>|<w:br\/>|<w:cr\/>/g, '\n')
    .replace(/<\/c>|<w:tab\/>|<\/w:tc>/g, ' ')
    .replace(/<[^>]*>/g, '')
    .replace(/&(?:#(\d+)|#x([0-9a-f]+)|(amp|lt|gt|quot|apos));/gi, (_, dec, hex, name) => {
      if (dec) return String.fromCodePoint(Number(dec) % 0x110000);
      if (hex) return String.fromCodePoint(Number.parseInt(hex, 16) % 0x110000);
      return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[String(name).toLowerCase()] ?? '';
    });
}

/** The text of an Office Open XML document in `bytes`. Never throws. */
export function officeText(bytes: Buffer): Promise<ExtractedText> {
  return new Promise((resolve) => {
    const texts: string[] = [];
    let total = 0;
    let truncated = false;
    let settled = false;
    const finish = (cut: boolean) => {
      if (settled) return;
      settled = true;
      resolve({ text: texts.join('\n'), truncated: truncated || cut });
    };
    yauzl.fromBuffer(bytes, { lazyEntries: true, validateEntrySizes: true }, (err, zip) => {
      if (err || !zip) return finish(true);
      let entries = 0;
      zip.on('error', () => finish(true));
      zip.on('end', () => finish(false));
      zip.on('entry', (entry: yauzl.Entry) => {
        if (++entries > MAX_ENTRIES) {
          zip.close();
          return finish(true);
        }
        if (!TEXT_PARTS.test(entry.fileName)) return zip.readEntry();
        if (entry.uncompressedSize > MAX_PART_BYTES || total + entry.uncompressedSize > MAX_TOTAL_BYTES) {
          truncated = true;
          return zip.readEntry();
        }
        total += entry.uncompressedSize;
        zip.openReadStream(entry, (streamErr, stream) => {
          if (streamErr || !stream) {
            truncated = true;
            return zip.readEntry();
          }
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          // validateEntrySizes makes a part that inflates beyond its declared size an error here.
          stream.on('error', () => {
            truncated = true;
            zip.readEntry();
          });
          stream.on('end', () => {
            texts.push(xmlText(Buffer.concat(chunks).toString('utf8')));
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}
