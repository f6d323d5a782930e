// Lenient decoders for the transfer encodings a mail client may apply to a body, whatever the headers
// claim: base64 (three ways of treating junk and padding), quoted-printable (two ways of treating a bad
// escape), uuencode, yEnc and BinHex 4.0. Each is linear in its input and never throws.

const B64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64 = new Int8Array(256).fill(-1);
for (let i = 0; i < B64_ALPHABET.length; i++) B64[B64_ALPHABET.charCodeAt(i)] = i;
const EQ = 61;

/**
 * Decodes base64 characters. Characters outside the alphabet are skipped; `=` either ends the current
 * quad (`padEndsQuad`, what strict decoders do mid-stream) or is skipped like junk.
 */
export function decodeBase64(src: string, padEndsQuad: boolean): Buffer {
  const text = base64Text(src, padEndsQuad);
  return padEndsQuad ? decodeBase64Runs(text) : Buffer.from(text, 'base64');
}

/** What decodeBase64 hands Node's decoder (run by run with `padEndsQuad`). */
export function base64Text(src: string, padEndsQuad: boolean): string {
  // Node's own decoder, which skips every char outside the alphabet by itself (natively, several times
  // the speed of a loop here) but for three: the URL-safe `-` and `_` it reads as 62 and 63, and `=`,
  // after which it may stop. Those are removed, each char on its own (a native search, quicker than a
  // regex's class); with `padEndsQuad`, each run between `=` is decoded on its own.
  let text = src;
  for (const c of padEndsQuad ? URL_SAFE : URL_SAFE_OR_PAD)
    if (text.includes(c)) text = text.replaceAll(c, '');
  return text;
}

/**
 * decodeBase64(text, true) for a text without `-` or `_` (the line readings below, made of base64
 * characters and `=` alone): nothing to take out first.
 */
export function decodeBase64Runs(text: string): Buffer {
  if (!text.includes('=')) return Buffer.from(text, 'base64');
  // Each run written where the last ended (html has hundreds: no Buffer per run).
  const out = Buffer.allocUnsafe(Math.ceil((text.length * 3) / 4) + 3);
  let n = 0;
  for (const run of text.split('=')) if (run.length > 1) n += out.write(run, n, 'base64');
  return out.subarray(0, n);
}

/**
 * decodeBase64Runs of a text (base64 characters, `=` and junk), or of a head's text then a tail's
 * (a body read again with lines in front of it) without joining the two. Node's decoder reads a run
 * (between `=`) four base64 characters at a time and skips junk, so the bytes of head + tail are those
 * of the head's runs with the tail's first few base64 characters (up to a whole quad), then the tail's
 * bytes from after those characters on: one of four decodings of the tail, each made once whatever
 * heads come before it.
 */
export class Base64Runs {
  private own: string | undefined;
  // By how many base64 characters of the first run are left out (0 to 3).
  private readonly from: Buffer[] = [];

  /** `text` gives the text, or with `tail` the head's text, which comes before the tail's. */
  constructor(
    private readonly text: () => string,
    private readonly tail?: Base64Runs,
  ) {}

  /** decodeBase64Runs(text), or of the head's text then the tail's. */
  bytes(): Buffer {
    return this.bytesFrom(0);
  }

  private ownText(): string {
    this.own ??= this.text();
    return this.own;
  }

  /** The first `want` base64 characters of the first run (the tail's too), fewer when it has fewer. */
  private lead(want: number): string {
    const { chars, open } = this.firstChars(want);
    return chars.length < want && open && this.tail ? chars + this.tail.lead(want - chars.length) : chars;
  }

  /**
   * In the own text, up to `want` base64 characters of the first run, where the last ends, and whether
   * the text ended before the run did.
   */
  private firstChars(want: number): { chars: string; at: number; open: boolean } {
    const text = this.ownText();
    let chars = '';
    let at = 0;
    for (; chars.length < want; at++) {
      if (at >= text.length) return { chars, at, open: true };
      const c = text.charCodeAt(at);
      if (c === EQ) return { chars, at, open: false };
      if ((B64[c] as number) >= 0) chars += text[at];
    }
    return { chars, at, open: false };
  }

  /**
   * decodeBase64Runs of the text without its first `skip` base64 characters (all of the first run's
   * when it has fewer).
   */
  private bytesFrom(skip: number): Buffer {
    let bytes = this.from[skip];
    if (bytes) return bytes;
    const { chars, at, open } = this.firstChars(skip);
    if (chars.length < skip && open && this.tail) bytes = this.tail.bytesFrom(skip - chars.length);
    else {
      const text = skip ? this.ownText().slice(at) : this.ownText();
      bytes = this.tail ? this.withHead(text) : decodeBase64Runs(text);
    }
    this.from[skip] = bytes;
    return bytes;
  }

  /** decodeBase64Runs(head + the tail's text). */
  private withHead(head: string): Buffer {
    const tail = this.tail as Base64Runs;
    // The tail's first run continues the head's last: the head's last quad is made whole from the tail.
    let n = 0;
    for (let i = head.length - 1; i >= 0; i--) {
      const c = head.charCodeAt(i);
      if (c === EQ) break;
      if ((B64[c] as number) >= 0) n++;
    }
    const chars = tail.lead((4 - (n % 4)) % 4);
    return Buffer.concat([decodeBase64Runs(head + chars), tail.bytesFrom(chars.length)]);
  }
}
const URL_SAFE = ['-', '_'];
const URL_SAFE_OR_PAD = ['-', '_', '='];

/**
 * Whether `body` is base64 as encoders write it: lines (ending at LF or CRLF) of whole quads of base64
 * characters, and at most two `=` at its end. Every base64 reading then reads the same characters, all
 * in its first run, as reading 0 (base64Text(body, false), whose decoding `bytes` gives): the same
 * bytes, whatever comes before it. A char Node's decoder skips would make those bytes shorter.
 */
export function isPlainBase64(body: string, bytes: () => Buffer): boolean {
  let pad = 0;
  // Only `=` (two at most) and line breaks from the first `=` on.
  for (let i = body.indexOf('='); i >= 0 && i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c === EQ) {
      if (++pad > 2) return false;
    } else if (c !== CR && c !== LF) return false;
  }
  // Lines of whole quads; a CR elsewhere than before an LF counts as a char (skipped, so not plain).
  let chars = 0;
  for (let start = 0; start < body.length; ) {
    const lf = body.indexOf('\n', start);
    const end = lf < 0 ? body.length : lf;
    const length = end - start - (end > start && body.charCodeAt(end - 1) === CR ? 1 : 0);
    if (length % 4) return false;
    chars += length;
    start = end + 1;
  }
  // With no char skipped, 3 bytes for each 4 characters but one for each `=` (whose 4 - pad base64
  // characters give 3 - pad bytes); each char skipped takes a byte off as well.
  return bytes().length === (chars / 4) * 3 - pad;
}

/** Each line cut at its first character that is neither base64 nor `=`: how line-oriented decoders read junk. */
export function base64LinePrefixes(body: string): string {
  // Per line (split at CRLF, CR, LF): leading whitespace as trim() sees it skipped, then the run of
  // base64 characters and `=` kept. One native replace: each match is a whole line and its breaks.
  return body.replace(LINE_PREFIX, '$1');
}
// A line: trim()'s whitespace (line breaks aside), the kept run, the rest of the line, its line breaks.
// It always matches, so each match starts where the last ended: at a line's start.
const LINE_PREFIX = /[^\S\r\n]*([A-Za-z0-9+/=]*)[^\r\n]*(?:[\r\n]+|$)/g;

/**
 * How a quoted-printable decoder treats a bad escape (`=` not followed by two hex digits): keep it as
 * text, drop the `=`, or (decoders that accept upper-case hex only) drop it with the next one or two
 * characters.
 */
export type QpBadEscape = 'keep' | 'drop-eq' | 'drop-1' | 'drop-2';

const CR = 13;
const LF = 10;
const isBlank = (c: number): boolean => c === 32 || c === 9;
/** The hex digit's value, or -1; upper-case only unless `lower`. */
function hexValue(c: number, lower: boolean): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (lower && c >= 97 && c <= 102) return c - 87;
  return -1;
}
/** The length of the line break at `i` (CRLF, CR or LF), or 0. */
const lineBreak = (s: string, i: number): number =>
  s.charCodeAt(i) === CR ? (s.charCodeAt(i + 1) === LF ? 2 : 1) : s.charCodeAt(i) === LF ? 1 : 0;

/**
 * Quoted-printable: soft breaks removed, `=XX` decoded, bad escapes treated as `bad` says. One pass per
 * step over char codes; the same result as the two regex replacements it stands for (first
 * `=[ \t]*(\r\n|\r|\n)` -> '' (for drop-1 `=?[ \t]*(\r\n|\r|\n)`), then `=([0-9A-Fa-f]{2})?` (for
 * drop-1/drop-2 `=([0-9A-F]{2})?([^=\r\n]{0,2})`)), with each char taken as a byte.
 */
export function decodeQuotedPrintable(body: string, bad: QpBadEscape): Buffer {
  return decodeEscapes(removeSoftBreaks(body, bad === 'drop-1'), bad).bytes;
}

// An `=` that starts neither an upper-case escape nor a soft break (blanks, then a line break).
const BAD_QP_ESCAPE = /=(?![0-9A-F]{2}|[ \t]*(?:\r\n|\r|\n))/;

/** Whether `body` holds a bad escape: there, and only there, decoders' treatments differ (but drop-1's). */
export const hasBadQpEscape = (body: string): boolean => BAD_QP_ESCAPE.test(body);

/**
 * decodeQuotedPrintable(body, 'drop-eq') in one pass straight into the bytes, for a body without a bad
 * escape (every `=` starts an upper-case `=XX` or a soft break: removing the soft breaks first could then
 * make no new escape, their chars not being hex); undefined at the first bad escape.
 */
export function decodeRegularQuotedPrintable(body: string): Buffer | undefined {
  const out = Buffer.allocUnsafe(body.length);
  let n = 0;
  let from = 0;
  for (let eq = body.indexOf('='); eq >= 0; eq = body.indexOf('=', from)) {
    if (eq > from) n += out.write(body.slice(from, eq), n, 'latin1');
    const hi = hexValue(body.charCodeAt(eq + 1), false);
    const lo = hexValue(body.charCodeAt(eq + 2), false);
    if (hi >= 0 && lo >= 0) {
      out[n++] = hi * 16 + lo;
      from = eq + 3;
    } else {
      // A soft break: blanks, then a line break.
      let j = eq + 1;
      while (isBlank(body.charCodeAt(j))) j++;
      const brk = lineBreak(body, j);
      if (brk === 0) return undefined;
      from = j + brk;
    }
  }
  if (from < body.length) n += out.write(body.slice(from), n, 'latin1');
  return out.subarray(0, n);
}

/**
 * Every treatment of bad escapes, in the order given, each decoded once: when the body has no bad
 * escape, keep and drop-eq give the same bytes, and with no lower-case hex either, so does drop-2.
 */
export function* quotedPrintableReadings(
  body: string,
  order: readonly QpBadEscape[],
): Generator<{ bad: QpBadEscape; bytes: Buffer }> {
  let joined: string | undefined;
  let plain: { bytes: Buffer; badEscapes: boolean; lowerHex: boolean } | undefined;
  for (const bad of order) {
    if (bad === 'drop-1') {
      yield { bad, bytes: decodeQuotedPrintable(body, bad) };
      continue;
    }
    joined ??= removeSoftBreaks(body, false);
    plain ??= decodeEscapes(joined, 'drop-eq');
    const same = !plain.badEscapes && (bad !== 'drop-2' || !plain.lowerHex);
    yield { bad, bytes: same ? plain.bytes : decodeEscapes(joined, bad).bytes };
  }
}

/** `=XX` decoded in a soft-break-free body; says whether a bad escape or lower-case hex was seen. */
function decodeEscapes(
  joined: string,
  bad: QpBadEscape,
): { bytes: Buffer; badEscapes: boolean; lowerHex: boolean } {
  const out = Buffer.allocUnsafe(joined.length);
  const lower = bad === 'keep' || bad === 'drop-eq';
  let badEscapes = false;
  let lowerHex = false;
  let n = 0;
  for (let i = 0; i < joined.length; ) {
    const eq = joined.indexOf('=', i);
    const stop = eq < 0 ? joined.length : eq;
    // Each char taken as a byte (latin1 keeps the low byte, as Buffer.from(..., 'latin1') does).
    if (stop > i) n += out.write(joined.slice(i, stop), n, 'latin1');
    if (eq < 0) break;
    i = eq;
    const c1 = joined.charCodeAt(i + 1);
    const c2 = joined.charCodeAt(i + 2);
    const hi = hexValue(c1, lower);
    const lo = hi < 0 ? -1 : hexValue(c2, lower);
    if (lo >= 0) {
      if (c1 >= 97 || c2 >= 97) lowerHex = true;
      out[n++] = (hi << 4) | lo;
      i += 3;
      continue;
    }
    badEscapes = true;
    if (bad === 'keep') {
      out[n++] = EQ;
      i++;
    } else if (bad === 'drop-eq') {
      i++;
    } else {
      // `=` then up to two chars that are not `=`, CR or LF: drop-1 keeps the second, drop-2 neither.
      let rest = 0;
      while (rest < 2) {
        const r = joined.charCodeAt(i + 1 + rest);
        if (Number.isNaN(r) || r === EQ || r === CR || r === LF) break;
        rest++;
      }
      if (bad === 'drop-1' && rest === 2) out[n++] = joined.charCodeAt(i + 2);
      i += 1 + rest;
    }
  }
  return { bytes: out.subarray(0, n), badEscapes, lowerHex };
}

/** Soft line breaks removed: `=`, blanks, a line break; with `anyBreak` every line break (and the blanks and `=` before it). */
function removeSoftBreaks(body: string, anyBreak: boolean): string {
  if (anyBreak) return removeLineBreaks(body);
  const parts: string[] = [];
  let from = 0;
  for (let i = 0; i < body.length; ) {
    // Straight to the next `=` (natively: most chars are none).
    i = body.indexOf('=', i);
    if (i < 0) break;
    let j = i + 1;
    while (isBlank(body.charCodeAt(j))) j++;
    const brk = lineBreak(body, j);
    if (brk === 0) {
      i++;
      continue;
    }
    if (i > from) parts.push(body.slice(from, i));
    i = from = j + brk;
  }
  if (from === 0) return body;
  parts.push(body.slice(from));
  return parts.join('');
}

// A line break's first char.
const BREAK_START = /[\r\n]/g;
/**
 * Every line break removed, with the blanks before it and a `=` before those. Each one ends such a soft
 * break, which starts where those chars before it start: the search goes from line break to line break
 * and looks back (not from every blank and `=`, which prose and html are full of).
 */
function removeLineBreaks(body: string): string {
  const parts: string[] = [];
  let from = 0;
  BREAK_START.lastIndex = 0;
  for (let m = BREAK_START.exec(body); m; m = BREAK_START.exec(body)) {
    const at = m.index;
    let start = at;
    while (start > from && isBlank(body.charCodeAt(start - 1))) start--;
    if (start > from && body.charCodeAt(start - 1) === EQ) start--;
    if (start > from) parts.push(body.slice(from, start));
    from = at + lineBreak(body, at);
    BREAK_START.lastIndex = from;
  }
  if (from === 0) return body;
  parts.push(body.slice(from));
  return parts.join('');
}

/** Each line cut to whole groups of four: how line-by-line decoders drop a short tail. */
export function base64WholeQuads(body: string): string {
  return wholeQuadsOf(base64Kept(body));
}

/**
 * `body`'s base64 characters, `=` and line breaks. Line breaks aside, the characters the plain base64
 * readings decode (base64Text(body, true), and without `=` base64Text(body, false)): Node's decoder
 * skips the others.
 */
export function base64Kept(body: string): string {
  return body.replace(/[^A-Za-z0-9+/=\r\n]+/g, '');
}

/** base64WholeQuads of what base64Kept gave. */
export function wholeQuadsOf(kept: string): string {
  // Per line, the first multiple of four characters kept. Lines are split at runs of line breaks: the
  // empty lines that skips add nothing.
  const lines = kept.split(/[\r\n]+/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.length % 4) lines[i] = line.slice(0, line.length - (line.length % 4));
  }
  return lines.join('');
}

/** uuencode: decodes every well-formed line (length char then groups of four), with or without `begin`. */
export function decodeUuencode(body: string): { name?: string; bytes: Buffer } | undefined {
  // Lines after the first `end` line are not read.
  const end = uuEndAt(body);
  const text = end >= 0 ? body.slice(0, end) : body;
  const chunks: Buffer[] = [];
  // Only the lines that can be data lines, found natively: a length char, then chars from space to
  // backquote (at least two) and at most two others (the decoding reads `need` chars, and a line is at
  // most two chars longer or shorter than that).
  UU_NEXT_LINE.lastIndex = 0;
  const next = (): string | undefined => UU_NEXT_LINE.exec(text)?.[1];
  for (let raw = UU_FIRST_LINE.exec(text)?.[0] ?? next(); raw !== undefined; raw = next()) {
    const count = (raw.charCodeAt(0) - 32) & 63;
    if (count === 0) continue;
    const need = Math.ceil(count / 3) * 4;
    const line = raw.slice(1).padEnd(need, ' ');
    if (raw.length - 1 < need - 2 || raw.length - 1 > need + 2) continue; // not a uu line
    if (/[^ -`]/.test(line.slice(0, need))) continue;
    const bytes = Buffer.allocUnsafe(Math.ceil(need / 4) * 3);
    let n = 0;
    for (let i = 0; i < need; i += 4) {
      const [a, b, c, d] = [0, 1, 2, 3].map((k) => (line.charCodeAt(i + k) - 32) & 63) as [
        number,
        number,
        number,
        number,
      ];
      bytes[n++] = ((a << 2) | (b >> 4)) & 0xff;
      bytes[n++] = ((b << 4) | (c >> 2)) & 0xff;
      bytes[n++] = ((c << 6) | d) & 0xff;
    }
    chunks.push(bytes.subarray(0, count));
  }
  if (chunks.length === 0) return undefined;
  // The name of the last `begin` line (a begin line is never a data line: its second char is `e`).
  let name: string | undefined;
  for (const [, begin] of text.matchAll(UU_BEGIN)) name = begin?.trim();
  return { ...(name ? { name } : {}), bytes: Buffer.concat(chunks) };
}
/**
 * Whether lines that come before a body change its uuencode reading: false when they hold no data line,
 * no begin line and no end line (the reading goes line by line).
 */
export function changesUuencode(lines: string): boolean {
  return decodeUuencode(lines) !== undefined || uuEndAt(lines) >= 0 || UU_BEGIN_LINE.test(lines);
}
/**
 * Where the first line (between CR, LF or CRLF breaks) that is just `end` starts, its line break
 * included; -1 when none. Found by indexOf: a regex that starts with a choice scans slower.
 */
function uuEndAt(s: string): number {
  const isBreak = (c: number): boolean => c === 10 || c === 13;
  for (let i = s.indexOf('end'); i >= 0; i = s.indexOf('end', i + 1)) {
    if ((i === 0 || isBreak(s.charCodeAt(i - 1))) && (i + 3 === s.length || isBreak(s.charCodeAt(i + 3))))
      return i === 0 ? 0 : i - 1;
  }
  return -1;
}
// A line that may be a data line: the first one, and one a break starts (found after it).
const UU_FIRST_LINE = /^[^\r\n][ -`]{2,}[^\r\n]{0,2}(?![^\r\n])/;
const UU_NEXT_LINE = /[\r\n]([^\r\n][ -`]{2,}[^\r\n]{0,2})(?![^\r\n])/g;
// `begin 644 name` on a line of its own: blanks and the name within the line (`.` stops at U+2028 too).
const UU_BEGIN =
  /(?:^|[\r\n])begin(?:-base64)?[^\S\r\n]+[0-7]{3,4}[^\S\r\n]+([^\r\n\u2028\u2029]{1,255})(?=[\r\n]|$)/g;
const UU_BEGIN_LINE = new RegExp(UU_BEGIN.source);

/** yEnc (`=ybegin ... =yend`), the Usenet binary encoding some clients still decode. */
export function decodeYenc(src: string): { name?: string; bytes: Buffer } | undefined {
  const begin = /^=ybegin[^\r\n]*$/m.exec(src);
  if (!begin) return undefined;
  const name = /name=(.{1,255})$/.exec(begin[0])?.[1]?.trim();
  let start = begin.index + begin[0].length;
  const part = /^=ypart[^\r\n]*$/m.exec(src.slice(start));
  if (part?.index !== undefined && part.index <= 2) start += part.index + part[0].length;
  const endAt = src.indexOf('\n=yend', start);
  const data = src.slice(start, endAt < 0 ? src.length : endAt + 1);
  const out = Buffer.allocUnsafe(data.length);
  let n = 0;
  for (let i = 0; i < data.length; i++) {
    let c = data.charCodeAt(i) & 0xff;
    if (c === 0x0a || c === 0x0d) continue;
    if (c === EQ && i + 1 < data.length) c = (data.charCodeAt(++i) - 64) & 0xff;
    out[n++] = (c - 42) & 0xff;
  }
  return { ...(name ? { name } : {}), bytes: out.subarray(0, n) };
}

const BINHEX_ALPHABET = '!"#$%&\'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr';
const BINHEX = new Int16Array(256).fill(-1);
for (let i = 0; i < BINHEX_ALPHABET.length; i++) BINHEX[BINHEX_ALPHABET.charCodeAt(i)] = i;

/** BinHex 4.0: the data fork of the first `(This file must be converted with BinHex ...)` block, at most `maxBytes`. */
export function decodeBinhex(src: string, maxBytes: number): { name?: string; bytes: Buffer } | undefined {
  const intro = src.search(/\(This file must be converted with BinHex/i);
  if (intro < 0) return undefined;
  const open = src.indexOf(':', intro + 40);
  const close = open < 0 ? -1 : src.indexOf(':', open + 1);
  if (open < 0 || close < 0) return undefined;
  const sixes: number[] = [];
  for (let i = open + 1; i < close; i++) {
    const v = BINHEX[src.charCodeAt(i) & 0xff] as number;
    if (v >= 0) sixes.push(v);
  }
  const packed: number[] = [];
  for (let i = 0; i + 1 < sixes.length; i += 4) {
    const [a, b, c = 0, d = 0] = sixes.slice(i, i + 4) as [number, number, number?, number?];
    packed.push(((a << 2) | (b >> 4)) & 0xff);
    if (i + 2 < sixes.length) packed.push(((b << 4) | (c >> 2)) & 0xff);
    if (i + 3 < sixes.length) packed.push(((c << 6) | d) & 0xff);
  }
  // Run-length expansion: 0x90 n repeats the previous byte n-1 more times; 0x90 0 is a literal 0x90.
  const bytes: number[] = [];
  for (let i = 0; i < packed.length; i++) {
    const b = packed[i] as number;
    if (b !== 0x90) {
      bytes.push(b);
      continue;
    }
    const count = packed[++i] ?? 0;
    if (count === 0) bytes.push(0x90);
    else for (let k = 1; k < count; k++) bytes.push(bytes[bytes.length - 1] ?? 0);
    if (bytes.length > maxBytes) return undefined; // run-length bomb
  }
  const buf = Buffer.from(bytes);
  const nameLen = buf[0] ?? 0;
  const header = 1 + nameLen + 1 + 4 + 4 + 2;
  if (buf.length < header + 10) return undefined;
  const name = buf.subarray(1, 1 + nameLen).toString('latin1');
  const dataLen = buf.readUInt32BE(header);
  const start = header + 4 + 4 + 2;
  return { ...(name ? { name } : {}), bytes: buf.subarray(start, Math.min(buf.length, start + dataLen)) };
}
