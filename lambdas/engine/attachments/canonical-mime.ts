// Canonical MIME: the subset of messages every mail reader splits into the same parts. A message is
// canonical when each of its header blocks is clean (name-colon lines and folds, ended by an empty
// line), it names its structure once and plainly (one Content-Type and one Content-Transfer-Encoding
// per entity, in a strict grammar), every line that starts with a boundary's delimiter is exactly that
// delimiter, a message without a Content-Type holds no `--` line a boundary-guessing reader would open
// as a part, and base64 comes in whole quads. Its parts then decode alike everywhere, but for
// quoted-printable's bad escapes and MIME without MIME-Version, whose few readings are given. Readers
// disagree more only where one of those fails; there the lenient extraction pass tries every reading.
// This module only recognises the subset and returns its leaf parts; it judges nothing, never throws.

import { decodeQuotedPrintable, decodeRegularQuotedPrintable, isPlainBase64 } from './decoders.ts';

/** A leaf part of a canonical message, and what readers may decode it to. */
export interface CanonicalLeaf {
  /** The part's header block, as written (folds kept). */
  readonly headers: string;
  /** Its Content-Type's type/subtype, lower-cased ('' when it has none: text/plain to readers). */
  readonly type: string;
  /**
   * Its bytes as decoded (quoted-printable with its bad escapes dropped), and for a message whose MIME
   * fields lack MIME-Version its body as the plain text readers that ignore them take it for.
   */
  readonly readings: readonly Buffer[];
  /** A quoted-printable body as written: decoders differ on its bad escapes and breaks (decoders.ts). */
  readonly quotedPrintable?: string;
}

export interface CanonicalLimits {
  readonly maxParts: number;
  readonly maxDepth: number;
}

// A preamble or epilogue longer than this is not the "This is a multi-part message" line readers skip:
// the lenient pass reads it.
const MAX_PREAMBLE_CHARS = 2048;

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
// type/subtype, then `; name=value` parameters (a token or a quoted string without escapes), nothing else:
// no comments, no blanks around `=`, no encoded words outside quotes.
const CONTENT_TYPE = new RegExp(
  `^[ \\t]*(${TOKEN})/(${TOKEN})[ \\t]*((?:;[ \\t]*${TOKEN}[ \\t]*=[ \\t]*(?:${TOKEN}|"[^"\\\\]*")[ \\t]*)*);?[ \\t]*$`,
);
const PARAM = new RegExp(`;[ \\t]*(${TOKEN})([ \\t]*=[ \\t]*)(?:(${TOKEN})|"([^"\\\\]*)")`, 'g');
// RFC 2046's boundary characters, 1 to 70 of them, not ending in a space.
const BOUNDARY = /^[0-9A-Za-z'()+_,./:=? -]{0,69}[0-9A-Za-z'()+_,./:=?-]$/;
const ENCODINGS = new Set(['7bit', '8bit', 'binary', 'base64', 'quoted-printable']);
const IDENTITY = new Set(['7bit', '8bit', 'binary']);
// Field lines (a name, a colon) and their folds (blanks, then more than blanks), each with its line
// break: a header block up to the empty line that ends it (a lone CR never gets this far).
const HEADER_LINES = /(?:[!-9;-~]+:[^\n]*\n(?:[ \t]+[^ \t\r\n][^\n]*\n)*)*/y;
// The fields that shape the reading: each at most once per header block.
const STRUCTURAL_FIELD = /^(content-type|content-transfer-encoding|mime-version):/gim;
const isBlank = (c: number): boolean => c === 32 || c === 9;
/** A field value without the line breaks of its folds and of its end. */
function unfold(value: string): string {
  const line = value.endsWith('\r') ? value.slice(0, -1) : value;
  return line.includes('\n') ? line.replace(/\r?\n/g, '') : line;
}
// A field to a lenient reader: blanks may stand before the colon.
const FIELD_LIKE = /^[!-9;-~]+[ \t]*:/;
// `1.0`, perhaps with a comment after it (as some mailers write their name there).
const MIME_1_0 = /^[ \t]*1\.0[ \t]*(?:\([^()\\]*\)[ \t]*)?$/;

/**
 * The leaf parts of `src` (a message as latin1 text) when it is canonical MIME within `limits`;
 * undefined when it is not, or when it is bigger than the limits allow (the lenient pass then reads it).
 */
export function canonicalLeaves(src: string, limits: CanonicalLimits): CanonicalLeaf[] | undefined {
  // A lone CR is a line break to some readers and a character to others.
  if (hasLoneCr(src)) return undefined;
  const walk = new Walk(src, limits);
  return walk.entity(0, src.length, 0, 'message') && !walk.hasStrayPart() ? walk.leaves : undefined;
}

/** Whether a CR stands anywhere but before an LF (one native search per line, not a regex at each char). */
function hasLoneCr(src: string): boolean {
  for (let i = src.indexOf('\r'); i >= 0; i = src.indexOf('\r', i + 2))
    if (src.charCodeAt(i + 1) !== 10) return true;
  return false;
}

class Walk {
  readonly leaves: CanonicalLeaf[] = [];
  private parts = 0;
  // Where the delimiter lines of the message's multiparts start.
  private readonly delimiters = new Set<number>();
  // The bodies a boundary-guessing reader may split: of messages with no Content-Type to go by.
  private readonly guessable: [number, number][] = [];

  constructor(
    private readonly src: string,
    private readonly limits: CanonicalLimits,
  ) {}

  /** Reads the entity in [start, end), a whole message or a part: false when it is not canonical. */
  entity(start: number, end: number, depth: number, kind: 'message' | 'part' | 'digest part'): boolean {
    if (++this.parts > this.limits.maxParts || depth > this.limits.maxDepth) return false;
    const block = this.headerBlock(start, end);
    if (!block) return false;
    const { fields, bodyStart } = block;
    const ct = fields.get('content-type');
    const cte = fields.get('content-transfer-encoding');
    // A digest's part without a type is a message to readers that know digests, text to others.
    if (kind === 'digest part' && ct === undefined) return false;
    // Without MIME-Version some readers ignore the other MIME fields: the body is plain text to them.
    const plainToSome =
      kind === 'message' &&
      (ct !== undefined || cte !== undefined) &&
      !MIME_1_0.test(fields.get('mime-version') ?? '');
    if (kind === 'message' && (ct === undefined || plainToSome)) this.guessable.push([bodyStart, end]);
    const leavesBefore = this.leaves.length;
    if (!this.read(start, end, bodyStart, ct, cte, depth)) return false;
    if (plainToSome) {
      const raw = Buffer.from(this.src.slice(bodyStart, end), 'latin1');
      const own = this.leaves.length === leavesBefore + 1 ? this.leaves[leavesBefore] : undefined;
      // A single part read as it is already gives that reading.
      if (!own?.readings.some((r) => r.equals(raw)))
        this.leaves.push({ headers: this.src.slice(start, bodyStart), type: '', readings: [raw] });
    }
    return true;
  }

  /** The entity's body by its Content-Type and Content-Transfer-Encoding. */
  private read(
    start: number,
    end: number,
    bodyStart: number,
    ct: string | undefined,
    cte: string | undefined,
    depth: number,
  ): boolean {
    const encoding = cte === undefined ? '7bit' : cte.trim().toLowerCase();
    if (!ENCODINGS.has(encoding)) return false;
    const type = ct === undefined ? { type: '', params: new Map<string, string>() } : contentType(ct);
    if (!type) return false;
    const major = type.type.slice(0, Math.max(0, type.type.indexOf('/')));
    if (major === 'multipart' || major === 'message') {
      // A container is never encoded; its parts are.
      if (!IDENTITY.has(encoding)) return false;
      if (type.type === 'message/rfc822' || type.type === 'message/global')
        return this.entity(bodyStart, end, depth + 1, 'message');
      // message/partial and external-body are read differently by different readers.
      if (major === 'message') return false;
      const boundary = type.params.get('boundary');
      const parts = type.type === 'multipart/digest' ? 'digest part' : 'part';
      return boundary !== undefined && this.multipart(boundary, bodyStart, end, depth, parts);
    }
    const body = this.src.slice(bodyStart, end);
    const bytes = decoded(body, encoding);
    if (!bytes) return false;
    const headers = this.src.slice(start, bodyStart);
    this.leaves.push({
      headers,
      type: type.type,
      readings: [bytes],
      ...(encoding === 'quoted-printable' ? { quotedPrintable: body } : {}),
    });
    return true;
  }

  /**
   * Whether, in a body a reader may guess boundaries in, a line that starts with `--` and is no
   * delimiter of the walk is followed by a field: a part to that reader.
   */
  hasStrayPart(): boolean {
    const src = this.src;
    for (const [start, end] of this.guessable) {
      for (let i = src.indexOf('--', start); i >= 0 && i < end; i = src.indexOf('--', i + 2)) {
        if ((i > start && src.charCodeAt(i - 1) !== 10) || this.delimiters.has(i)) continue;
        const nl = src.indexOf('\n', i);
        if (nl >= 0 && nl + 1 < end && FIELD_LIKE.test(src.slice(nl + 1, Math.min(end, nl + 201))))
          return true;
      }
    }
    return false;
  }

  /**
   * The header block from `start`: its structural fields (unfolded) and where the body starts; undefined
   * when a line is neither a field nor a fold, a structural field repeats, or no empty line ends it.
   */
  private headerBlock(
    start: number,
    end: number,
  ): { fields: Map<string, string>; bodyStart: number } | undefined {
    const src = this.src;
    HEADER_LINES.lastIndex = start;
    HEADER_LINES.exec(src);
    const blockEnd = HEADER_LINES.lastIndex;
    let bodyStart: number;
    if (blockEnd === start) return undefined;
    if (blockEnd >= end) {
      // Headers up to a range that ends after a line break (the one a delimiter line takes for its
      // own): an empty body.
      if (src.charCodeAt(end - 1) !== 10 || end >= src.length) return undefined;
      bodyStart = end;
    } else {
      // The empty line that ends the block.
      const c = src.charCodeAt(blockEnd);
      if (c === 10) bodyStart = blockEnd + 1;
      else if (c === 13 && src.charCodeAt(blockEnd + 1) === 10) bodyStart = blockEnd + 2;
      else return undefined;
      if (bodyStart > end) return undefined;
    }
    const block = src.slice(start, Math.min(blockEnd, end));
    // A NUL ends a header block early for readers that keep strings as C does.
    if (block.includes('\0')) return undefined;
    const fields = new Map<string, string>();
    STRUCTURAL_FIELD.lastIndex = 0;
    for (let m = STRUCTURAL_FIELD.exec(block); m; m = STRUCTURAL_FIELD.exec(block)) {
      const name = (m[1] as string).toLowerCase();
      if (fields.has(name)) return undefined;
      // The value runs to the line break before the next line that is not a fold.
      let stop = block.indexOf('\n', STRUCTURAL_FIELD.lastIndex);
      while (stop >= 0 && stop + 1 < block.length && isBlank(block.charCodeAt(stop + 1)))
        stop = block.indexOf('\n', stop + 1);
      fields.set(name, unfold(block.slice(STRUCTURAL_FIELD.lastIndex, stop < 0 ? block.length : stop)));
    }
    return { fields, bodyStart };
  }

  /** The parts of a multipart body in [start, end) between its delimiter lines. */
  private multipart(
    boundary: string,
    start: number,
    end: number,
    depth: number,
    parts: 'part' | 'digest part',
  ): boolean {
    if (!BOUNDARY.test(boundary)) return false;
    const delimiter = `--${boundary}`;
    let partStart = -1;
    let closed = false;
    for (
      let i = this.src.indexOf(delimiter, start);
      i >= 0 && i < end;
      i = this.src.indexOf(delimiter, i + 1)
    ) {
      if (i > start && this.src.charCodeAt(i - 1) !== 10) continue;
      const nl = this.src.indexOf('\n', i);
      const lineEnd = nl < 0 || nl >= end ? end : nl;
      const rest = this.src.slice(
        i + delimiter.length,
        this.src.charCodeAt(lineEnd - 1) === 13 ? lineEnd - 1 : lineEnd,
      );
      // Anything after the delimiter on its line (blanks included) is read differently by different readers.
      if ((rest !== '' && rest !== '--') || closed) return false;
      this.delimiters.add(i);
      // The line break before a delimiter belongs to it.
      const before = i === start ? i : i - (this.src.charCodeAt(i - 2) === 13 ? 2 : 1);
      if (partStart < 0) {
        if (before - start > MAX_PREAMBLE_CHARS) return false;
      } else if (!this.entity(partStart, Math.max(partStart, before), depth + 1, parts)) return false;
      if (rest === '--') {
        closed = true;
        if (end - Math.min(end, lineEnd + 1) > MAX_PREAMBLE_CHARS) return false;
      } else partStart = Math.min(end, lineEnd + 1);
      i = lineEnd - 1;
    }
    // Unclosed, or no part at all: readers end such a body differently.
    return closed && partStart >= 0;
  }
}

/** A Content-Type value in the strict grammar: its type and parameters (names lower-cased, each once). */
function contentType(value: string): { type: string; params: Map<string, string> } | undefined {
  const m = CONTENT_TYPE.exec(value);
  if (!m) return undefined;
  const params = new Map<string, string>();
  for (const p of (m[3] ?? '').matchAll(PARAM)) {
    const name = (p[1] as string).toLowerCase();
    // A repeated parameter, a boundary in RFC 2231 pieces or with blanks around its `=` is read
    // differently by different readers (blanks around another's `=` change no part).
    if (params.has(name) || (name.startsWith('boundary') && (name !== 'boundary' || p[2] !== '=')))
      return undefined;
    params.set(name, p[3] ?? p[4] ?? '');
  }
  return { type: `${m[1]}/${m[2]}`.toLowerCase(), params };
}

/**
 * The body's bytes under `encoding`: base64 only as encoders write it (whole quads: every decoder reads
 * the same); quoted-printable with bad escapes dropped (the other ways are the caller's to read).
 */
function decoded(body: string, encoding: string): Buffer | undefined {
  if (IDENTITY.has(encoding)) return Buffer.from(body, 'latin1');
  if (encoding === 'base64') {
    let bytes: Buffer | undefined;
    const read = () => {
      bytes ??= Buffer.from(body, 'base64');
      return bytes;
    };
    return isPlainBase64(body, read) ? read() : undefined;
  }
  return decodeRegularQuotedPrintable(body) ?? decodeQuotedPrintable(body, 'drop-eq');
}
