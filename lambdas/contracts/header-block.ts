// The one header reader: where a message's header block ends, its fields as raw bytes, and their names
// and values, read exactly as mailparser (its mailsplit splitter) reads them, so what the gateway
// renames or trusts is what mail clients and downstream filters see. Works on latin1 strings, which
// map bytes 1:1, so a caller can rebuild the message without touching a body byte. No MIME decoding.
//
// mailsplit's rules, mirrored here: the block ends at the first empty line (CRLF or LF alone); a line
// starting with space or tab continues the previous field; any other line starts a field whose key is
// the text before its first colon (which may sit on a continuation line), trimmed and lower-cased, so
// `X-SEG-Verdict : x` is the key `x-seg-verdict`; a line without a colon does not end the block.
// There is no size cut: a field past the first 256 KB is as visible downstream as the first one.

/** One header field exactly as it appears, folded lines and line endings included. */
export interface RawField {
  /** The name as written before the first colon, trimmed (case kept); '' when there is no colon. */
  readonly name: string;
  /** The name as mailparser keys it: trimmed and lower-cased. */
  readonly key: string;
  /** The whole field: first line plus continuation lines, each with its line ending. */
  readonly text: string;
  /** Index in `text` of the first colon, or -1 when the field has none. */
  readonly colon: number;
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

const isFold = (c: string | undefined) => c === ' ' || c === '\t';

function makeField(text: string): RawField {
  const colon = text.indexOf(':');
  const name = colon < 0 ? '' : text.slice(0, colon).trim();
  return { name, key: name.toLowerCase(), text, colon };
}

/** The end of the header block: the offset of the first empty line (or the end of the message). */
function headerEnd(text: string): number {
  if (text.startsWith('\r\n') || text.startsWith('\n')) return 0;
  const crlf = text.indexOf('\n\r\n');
  const lf = text.indexOf('\n\n');
  const ends = [crlf, lf].filter((i) => i >= 0);
  return ends.length ? Math.min(...ends) + 1 : text.length;
}

/** Splits the header block into raw fields. A message with no empty line is all header. */
export function splitMessage(raw: Uint8Array): SplitMessage {
  const all = toLatin1(raw);
  const end = headerEnd(all);
  const text = all.slice(0, end);
  const firstLine = text.slice(0, text.indexOf('\n') + 1);
  const eol = firstLine.endsWith('\r\n') || (!firstLine && all.startsWith('\r\n')) ? '\r\n' : '\n';
  const fields: RawField[] = [];
  let current: string | undefined;
  let pos = 0;
  while (pos < text.length) {
    const lineEnd = text.indexOf('\n', pos);
    const next = lineEnd === -1 ? text.length : lineEnd + 1;
    const line = text.slice(pos, next);
    if (isFold(line[0]) && current !== undefined) current += line;
    else {
      if (current !== undefined) fields.push(makeField(current));
      current = line;
    }
    pos = next;
  }
  if (current !== undefined) fields.push(makeField(current));
  // latin1 maps each byte to one character, so the string position is the byte offset.
  return { fields, restOffset: end, eol };
}

/** Unfolded value of a raw field: continuation line breaks removed, outer whitespace trimmed. */
export function fieldValue(field: RawField): string {
  if (field.colon < 0) return '';
  return field.text
    .slice(field.colon + 1)
    .replace(/\r?\n(?=[ \t])/g, '')
    .trim();
}

/** All values of the named field (case-insensitive, as mailparser keys it), in order. */
export function headerValues(raw: Uint8Array, name: string): string[] {
  const key = name.toLowerCase();
  return splitMessage(raw)
    .fields.filter((f) => f.key === key)
    .map(fieldValue);
}

/** Removes RFC 5322 comments, nested ones included (an unclosed comment runs to the end). */
export function withoutComments(value: string): string {
  let depth = 0;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && depth > 0) i++;
    else if (c === '(') depth++;
    else if (c === ')' && depth > 0) {
      depth--;
      out += ' ';
    } else if (depth === 0) out += c;
  }
  return out;
}

/**
 * The authserv-id of an Authentication-Results value (RFC 8601 section 2.2): the first token after
 * comments, before any version number or `;`, unquoted, lower-cased, without a trailing dot.
 * `example.com 1; spf=pass`, `example.com (comment); ...` and `"example.com"; ...` all give example.com.
 */
export function authservIdOf(value: string): string {
  const token = withoutComments(value).trim().split(/[\s;]/)[0] ?? '';
  return token
    .replace(/^"(.*)"$/, '$1')
    .replace(/\.$/, '')
    .toLowerCase();
}

/** Addresses in an address-list header value: the part in <> when present, else bare addr-specs. */
export function addressesIn(value: string): string[] {
  const found = new Set<string>();
  for (const m of withoutComments(value).matchAll(/<([^<>\s@]+@[^<>\s@]+)>|([^\s<>,;:"]+@[^\s<>,;:"]+)/g)) {
    const address = (m[1] ?? m[2] ?? '').toLowerCase();
    if (address) found.add(address);
  }
  return [...found];
}
