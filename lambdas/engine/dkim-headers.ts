// The header side of a DKIM or ARC signature check, as mailauth does it, in fewer passes: reading a
// signature's tag list (mailauth's parseDkimHeaders reads it one character at a time, growing each
// tag by string concatenation), picking the signed header fields, and canonicalizing them (mailauth
// runs four regular expressions and makes a buffer per field, per signature, so a message signed by
// its sender, its mailing list and an ARC seal canonicalizes the same fields three times).
// Equivalence to mailauth's own functions is property-tested (test/engine/dkim-headers.test.ts).

import { defaultDKIMFieldNames, parseDkimHeaders } from 'mailauth/lib/tools.js';

/** One header as mailauth's parseHeaders() gives it (and mail-auth.ts's parseHeaderBlock()): its name, and its lines joined by CRLF. */
export interface HeaderRow {
  readonly key: string | null;
  readonly casedKey: string | undefined;
  readonly line: Buffer;
}

/** One tag's value, as parseDkimHeaders gives it. */
export interface TagValue {
  value: string | number;
  comment?: string;
}

/** A parsed tag list: the header name, the tags, and the header bytes it was read from. */
export interface TagList {
  /** `header` and `value` are strings (the header's name, its first bare word); the tags are TagValues. */
  parsed: Record<string, unknown>;
  original: Buffer;
}

// What sends mailauth's reader off its plain path: an escape, a comment, a quoted string.
const NOT_PLAIN = /[\\("']/;
const WSP_RUNS = /\s+/g;
// Tags whose whitespace mailauth removes, and those it makes numbers when they read as one.
const NO_WSP_TAGS = new Set(['bh', 'b', 'p', 'h']);
const NUMBER_TAGS = new Set(['l', 'v', 't', 'x']);

/**
 * mailauth's parseDkimHeaders(line): the header's name, then its `;`-separated tags, each cut at its
 * first `=`. A list with a backslash, a parenthesis or a quote, and an Authentication-Results header
 * (whose values mailauth reads further), go to mailauth's own reader; the rest are plain splits.
 */
export function parseTagList(buf: Buffer): TagList {
  let line = buf.toString().trim();
  if (NOT_PLAIN.test(line)) return parseDkimHeaders(buf);
  const colon = line.indexOf(':');
  let header: string | undefined;
  if (colon >= 0) {
    header = line.slice(0, colon).trim().toLowerCase();
    line = line.slice(colon + 1).trim();
  }
  if (header === 'arc-authentication-results' || header === 'authentication-results')
    return parseDkimHeaders(buf);
  const arc = header !== undefined && /^arc-/i.test(header);
  const tags: { key: string; value: string | number; hasValue: boolean }[] = [];
  for (const part of line.split(';')) {
    const eq = part.indexOf('=');
    const key = (eq < 0 ? part : part.slice(0, eq)).replace(WSP_RUNS, ' ').trim().toLowerCase();
    // A tag without a name is dropped (so are the empty ones a trailing `;` leaves).
    if (!key) continue;
    const raw = eq < 0 ? '' : part.slice(eq + 1);
    // Whitespace runs made one space and the ends trimmed, then (for these tags) every space dropped:
    // all the whitespace goes, in one pass.
    if (NO_WSP_TAGS.has(key)) {
      tags.push({ key, value: raw.replace(WSP_RUNS, ''), hasValue: eq >= 0 });
      continue;
    }
    let value: string | number = raw.replace(WSP_RUNS, ' ').trim();
    if (NUMBER_TAGS.has(key) && !Number.isNaN(Number(value))) value = Number(value);
    else if (key === 'i' && arc) value = Number(value);
    tags.push({ key, value, hasValue: eq >= 0 });
  }
  const parsed: TagList['parsed'] = { header };
  // The first tag without a `=` is the header's value, not a tag.
  const bare = tags.findIndex((t) => !t.hasValue);
  if (bare >= 0) {
    parsed.value = tags[bare]!.key;
    tags.splice(bare, 1);
  }
  for (const { key, value } of tags)
    if (key !== '__proto__' && key !== 'constructor') parsed[key] = { value };
  return { parsed, original: buf };
}

/** An h= list's names, lowercased, as mailauth reads them. */
const signedNames = (h: string): string[] =>
  h
    .split(':')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name);
const DEFAULT_NAMES = signedNames(defaultDKIMFieldNames);

/** Where the rows of each name are, in order: what signedRows() looks names up in, once per message. */
export function rowsByName(rows: readonly HeaderRow[]): Map<string, number[]> {
  const byName = new Map<string, number[]>();
  rows.forEach((row, i) => {
    if (row.key === null) return;
    const at = byName.get(row.key);
    if (at) at.push(i);
    else byName.set(row.key, [i]);
  });
  return byName;
}

/**
 * mailauth's getSigningHeaderLines(rows, h, true): for each name in h, the last row of that name not
 * taken by an earlier mention (found through an index of the rows by name, not by copying the rows
 * and splicing one out per name). Without an h= list (an ARC seal has none), mailauth's default names.
 */
export function signedRows(
  rows: readonly HeaderRow[],
  h: unknown,
  byName: ReadonlyMap<string, readonly number[]> = rowsByName(rows),
): { keys: string; headers: HeaderRow[] } {
  const names = typeof h === 'string' ? signedNames(h) : DEFAULT_NAMES;
  const taken = new Map<string, number>();
  const headers: HeaderRow[] = [];
  for (const name of names) {
    const at = byName.get(name);
    const n = taken.get(name) ?? 0;
    if (!at || n >= at.length) continue;
    headers.push(rows[at[at.length - 1 - n]!]!);
    taken.set(name, n + 1);
  }
  return { keys: headers.map((row) => row.casedKey).join(': '), headers };
}

// A run of two or more whitespace characters, or one that is not a space: what /\s+/ -> ' ' changes.
const WSP_CHANGE = /\s\s+|[^\S ]/g;
const LINE_BREAK = /\r?\n/g;

/**
 * mailauth's formatRelaxedLine(line) as a latin1 string: unfolded, the name lowercased and trimmed, the
 * whitespace after its colon dropped, every whitespace run made one space, the ends trimmed.
 */
export function relaxedLine(line: Buffer): string {
  let text = line.toString('latin1');
  if (text.includes('\n')) text = text.replace(LINE_BREAK, '');
  const colon = text.indexOf(':');
  if (colon >= 0) {
    let value = colon + 1;
    while (value < text.length && /\s/.test(text[value]!)) value++;
    text = `${text.slice(0, colon).toLowerCase().trim()}:${text.slice(value)}`;
  }
  return text.replace(WSP_CHANGE, ' ').trim();
}

// The b= tag's value, which the signature did not cover.
const SIGNATURE_VALUE = /([;:\s]+b=)[^;]+/;

/**
 * mailauth's generateCanonicalizedHeader() for a verification: the signed rows, each canonicalized
 * and ended with CRLF, then the signature's own header without its b= value and without a break.
 * `relaxed` canonicalizes a row through `relaxedOf`, which may remember rows already done.
 */
export function canonicalizedHeader(
  canonicalization: string,
  rows: readonly HeaderRow[],
  signature: Buffer,
  relaxedOf: (row: HeaderRow) => string = (row) => relaxedLine(row.line),
): Buffer {
  const headerCanon = (canonicalization || 'simple/simple').split('/')[0]!.toLowerCase().trim();
  if (headerCanon === 'simple') {
    const chunks: Buffer[] = [];
    for (const row of rows) chunks.push(row.line, CRLF);
    chunks.push(Buffer.from(signature.toString('latin1').replace(SIGNATURE_VALUE, '$1'), 'latin1'));
    return Buffer.concat(chunks);
  }
  if (headerCanon !== 'relaxed')
    throw Object.assign(new Error('Unknown header canonicalization'), { canonicalization: headerCanon });
  let text = '';
  for (const row of rows) text += `${relaxedOf(row)}\r\n`;
  text += relaxedLine(signature).replace(SIGNATURE_VALUE, '$1');
  return Buffer.from(text, 'latin1');
}

const CRLF = Buffer.from('\r\n');
