// Byte-exact access to a message's header block: where it ends, its fields as raw lines, and a
// bounded, unfolded read of field values. Works on latin1 strings, which map bytes 1:1, so the
// caller can rebuild the message without touching a single body byte. No MIME decoding here.

/** Header reads never look further than this: a header block beyond 256 KB is hostile. */
export const MAX_HEADER_BYTES = 256 * 1024;

/** One header field exactly as it appears, folded lines and line ending included. */
export interface RawField {
  /** The field name as written (case kept). */
  readonly name: string;
  /** The whole field: `Name: value` plus continuation lines, each with its line ending. */
  readonly text: string;
}

/** The header block split into fields; the bytes from `restOffset` on (blank line, body) are untouched. */
export interface SplitMessage {
  readonly fields: readonly RawField[];
  /** Byte offset where the fields end: the blank separator line and the body follow. */
  readonly restOffset: number;
  readonly eol: '\r\n' | '\n';
}

export const toLatin1 = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');

/** Splits the header block into raw fields. A message with no blank line is all header. */
export function splitMessage(raw: Uint8Array, maxHeaderBytes = MAX_HEADER_BYTES): SplitMessage {
  const text = toLatin1(raw.subarray(0, Math.min(raw.byteLength, maxHeaderBytes)));
  const eol = /\r\n/.test(text.slice(0, text.indexOf('\n') + 1)) ? '\r\n' : '\n';
  const fields: RawField[] = [];
  let pos = 0;
  while (pos < text.length) {
    const lineEnd = text.indexOf('\n', pos);
    const end = lineEnd === -1 ? text.length : lineEnd + 1;
    const line = text.slice(pos, end);
    if (line === '\r\n' || line === '\n') break;
    const continuation = line[0] === ' ' || line[0] === '\t';
    const last = fields[fields.length - 1];
    if (continuation && last) {
      fields[fields.length - 1] = { name: last.name, text: last.text + line };
    } else {
      const colon = line.indexOf(':');
      // A line without a colon ends the header block for mail parsers; stop here too.
      if (colon <= 0 || /[\s]/.test(line.slice(0, colon))) break;
      fields.push({ name: line.slice(0, colon), text: line });
    }
    pos = end;
  }
  // latin1 maps each byte to one character, so the string position is the byte offset.
  return { fields, restOffset: pos, eol };
}

/** Unfolded value of a raw field: continuation line breaks removed, outer whitespace trimmed. */
export function fieldValue(field: RawField): string {
  return field.text
    .slice(field.name.length + 1)
    .replace(/\r?\n(?=[ \t])/g, '')
    .trim();
}

/** All values of the named field (case-insensitive), in order. */
export function headerValues(raw: Uint8Array, name: string): string[] {
  const lower = name.toLowerCase();
  return splitMessage(raw)
    .fields.filter((f) => f.name.toLowerCase() === lower)
    .map(fieldValue);
}

/** Addresses in an address-list header value: the part in <> when present, else bare addr-specs. */
export function addressesIn(value: string): string[] {
  const found = new Set<string>();
  const withoutComments = value.replace(/\([^()]*\)/g, ' ');
  for (const m of withoutComments.matchAll(/<([^<>\s@]+@[^<>\s@]+)>|([^\s<>,;:"]+@[^\s<>,;:"]+)/g)) {
    const address = (m[1] ?? m[2] ?? '').toLowerCase();
    if (address) found.add(address);
  }
  return [...found];
}
