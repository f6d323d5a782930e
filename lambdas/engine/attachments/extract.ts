// Extracts every file a message carries, bounded: mailparser's view of the attachments, then a lenient
// second pass that decodes what any mail client might (every body under other boundary and header
// readings, base64/quoted-printable/uuencode/yEnc/BinHex whatever the headers claim, zips carved out
// of junk), then archive members, recursively. Duplicates (by sha256) are dropped. It judges nothing:
// the attachment and antivirus scanners do. It never throws; a crossed bound becomes a problem.

import { createHash } from 'node:crypto';
import { fileTypeFromBuffer } from 'file-type';
import type { AttachmentLimits, Limits } from '../../config/schema.ts';
import { readMail } from '../parse.ts';
import { type ArchiveProblem, archiveKind, openArchive } from './archives.ts';
import { type CanonicalLeaf, canonicalLeaves } from './canonical-mime.ts';
import {
  Base64Runs,
  base64Kept,
  base64LinePrefixes,
  base64Text,
  base64WholeQuads,
  changesUuencode,
  decodeBinhex,
  decodeQuotedPrintable,
  decodeUuencode,
  decodeYenc,
  hasBadQpEscape,
  isPlainBase64,
  type QpBadEscape,
  quotedPrintableReadings,
  wholeQuadsOf,
} from './decoders.ts';
import {
  headBytesFor,
  ISO_MARK,
  ISO_MARK_AT,
  mayBeFile,
  mayBeFileNow,
  mayHaveType,
  mayHaveTypeNow,
} from './head-type.ts';

/** Where a file was found. */
export type FileSource =
  /** An attachment as mailparser (and so a standards-following client) decodes it. */
  | 'mime'
  /** Only a lenient reading found it: mail parsers disagree about this part. */
  | 'lenient'
  /** A member of an archive or an attached message. */
  | 'archive';

/** One file a message carries, at any depth. */
export interface ExtractedFile {
  /** As the sender named it ('' when none). Inside archives: the entry name. */
  readonly name: string;
  /** The containers from the outermost, e.g. ['invoice.zip', 'inner.zip']; [] for a top-level attachment. */
  readonly path: readonly string[];
  /** Declared MIME type ('' inside archives). */
  readonly declaredType: string;
  readonly bytes: Uint8Array;
  /** Hex sha256 of `bytes`. */
  readonly sha256: string;
  /** True type by magic bytes (file-type), when it recognises one. */
  readonly detected?: { readonly ext: string; readonly mime: string };
  readonly source: FileSource;
}

/** A bound crossed or something that could not be read. `name` and `path` locate it like a file's. */
export interface ExtractionProblem {
  readonly kind: ArchiveProblem['kind'] | 'files' | 'bytes' | 'depth';
  readonly name: string;
  readonly path: readonly string[];
  readonly detail: string;
}

export interface Extraction {
  readonly files: readonly ExtractedFile[];
  readonly problems: readonly ExtractionProblem[];
  /** True when a bound stopped extraction (files, bytes, depth, entries, size, ratio). */
  readonly truncated: boolean;
  /** Every archive entry name listed, by archive path (encrypted and skipped members included). */
  readonly listings: readonly { readonly path: readonly string[]; readonly names: readonly string[] }[];
}

/** The MIME bounds extraction shares with parse. */
export type MimeLimits = Pick<Limits, 'maxMessageBytes' | 'maxParts' | 'maxDepth' | 'maxBodyChars'>;

// Segments the lenient pass reads: twice the part limit, since it splits at every `--` line.
const MAX_SEGMENTS_PER_PART = 2;
// Zips carved per decoded body: a real body holds one or two; more is noise.
const MAX_CARVES = 4;
// Blank-line-separated blocks read on their own per body: junk blocks before the data are few.
const MAX_BLOCKS = 8;
// A lenient candidate shorter than this is noise, not a file worth a type check.
const MIN_LENIENT_BYTES = 16;
// One line break: CRLF, LF or a lone CR (a lone CR never swallows the LF of a CRLF).
const NL = '(?:\\r\\n|\\n|\\r(?!\\n))';

/**
 * Extracts every file `raw` carries within `limits` (and the MIME `mime` limits parse uses).
 * Never throws.
 */
export async function extractFiles(
  raw: Uint8Array,
  limits: AttachmentLimits,
  mime: MimeLimits,
): Promise<Extraction> {
  const out = new Collector(limits, mime);
  try {
    await out.message(raw, [], 0);
  } catch (err) {
    out.problem('corrupt', '', [], `extraction failed: ${String((err as Error)?.message ?? err)}`);
  }
  return out.result();
}

interface Meta {
  readonly name: string;
  readonly path: readonly string[];
  readonly declaredType: string;
  readonly source: FileSource;
}

class Collector {
  private readonly files: ExtractedFile[] = [];
  private readonly problems: ExtractionProblem[] = [];
  private readonly listings: { path: readonly string[]; names: readonly string[] }[] = [];
  private readonly seen = new Set<string>();
  /** sha256 of the files mailparser gave that have a known type and open: decoded right. */
  private readonly mimeShas = new Set<string>();
  /** Their lengths: a reading of another length cannot be one of them, so it is not hashed. */
  private readonly mimeLengths = new Set<number>();
  private truncated = false;
  /** The top message's subject and text (html's text included) and html, read for archive passwords. */
  private passwordText: (() => Promise<string>) | undefined;
  /** Archive passwords the message text offers ("password: 1234"), read at the first archive. */
  private passwords: readonly string[] | undefined;
  private bytes = 0;

  constructor(
    private readonly limits: AttachmentLimits,
    private readonly mime: MimeLimits,
  ) {}

  result(): Extraction {
    return { files: this.files, problems: this.problems, truncated: this.truncated, listings: this.listings };
  }

  problem(kind: ExtractionProblem['kind'], name: string, path: readonly string[], detail: string): void {
    if (['files', 'bytes', 'depth', 'entries', 'size', 'ratio'].includes(kind)) this.truncated = true;
    // One 'files'/'bytes' problem is enough; they would otherwise repeat per file.
    if ((kind === 'files' || kind === 'bytes') && this.problems.some((p) => p.kind === kind)) return;
    this.problems.push({ kind, name, path, detail: detail.slice(0, 200) });
  }

  /**
   * A whole message (the top one, or an attached message/rfc822): mailparser's view, then for the top
   * one (`depth` 0) the lenient pass.
   */
  async message(raw: Uint8Array, path: readonly string[], depth: number): Promise<void> {
    // parse's reading when there is one (`seg scan`: the top message was parsed already).
    const { latin1, mail: reading } = readMail(raw, this.mime, false);
    if (depth === 0)
      this.passwordText = async () => {
        // With the html's text, as parse reads it: the same words whichever runtime asks.
        const mail = await readMail(raw, this.mime, true).mail;
        return `${mail.subject ?? ''}\n${mail.text ?? ''}\n${mail.html || ''}`;
      };
    try {
      const mail = await reading;
      for (const a of mail.attachments ?? []) {
        const meta = {
          name: a.filename ?? '',
          path,
          declaredType: (a.contentType ?? '').toLowerCase(),
          source: path.length ? ('archive' as const) : ('mime' as const),
        };
        await this.add(a.content, meta, depth, false);
      }
    } catch (err) {
      this.problem('corrupt', '', path, `mailparser: ${String((err as Error)?.message ?? err)}`);
    }
    if (depth === 0) await this.lenientPass(latin1, path, depth);
  }

  /** The archive passwords the message offers, read once (most messages carry no archive: never). */
  private async archivePasswords(): Promise<readonly string[]> {
    if (!this.passwords) {
      const text = await this.passwordText?.().catch(() => '');
      this.passwords = text ? passwordsIn(text) : [];
    }
    return this.passwords;
  }

  /**
   * Adds one file, then opens it if it is an archive or a message. With `mustBeValid` (lenient
   * candidates), a file is kept only when its type is recognised and, for an archive, it opens.
   */
  async add(bytes: Buffer, meta: Meta, depth: number, mustBeValid: boolean): Promise<boolean> {
    if (bytes.length === 0 || (mustBeValid && bytes.length < MIN_LENIENT_BYTES)) return false;
    const detected = await detect(bytes);
    if (mustBeValid && (!detected || this.redecodes(bytes, detected.ext))) return false;
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (this.seen.has(sha256)) return false;
    const kind = archiveKind(bytes);
    const listing =
      kind && depth < this.limits.maxArchiveDepth
        ? await openArchive(kind, bytes, {
            maxEntries: this.limits.maxArchiveEntries,
            maxMemberBytes: this.limits.maxFileBytes,
            maxTotalBytes: Math.max(0, this.limits.maxTotalBytes - this.bytes - bytes.length),
            maxRatio: this.limits.maxCompressionRatio,
            passwords: await this.archivePasswords(),
          })
        : undefined;
    // A lenient candidate that is an archive counts only if something in it could be read.
    if (mustBeValid && listing && listing.members.length === 0) return false;
    if (this.files.length >= this.limits.maxFiles) {
      this.problem('files', meta.name, meta.path, `more than ${this.limits.maxFiles} files`);
      return false;
    }
    if (bytes.length > this.limits.maxFileBytes) {
      this.problem('size', meta.name, meta.path, `${bytes.length} bytes`);
      return false;
    }
    if (this.bytes + bytes.length > this.limits.maxTotalBytes) {
      this.problem('bytes', meta.name, meta.path, `more than ${this.limits.maxTotalBytes} bytes in all`);
      return false;
    }
    this.seen.add(sha256);
    const whole = !listing?.problems.some((p) => p.kind === 'corrupt' && !p.member);
    if (meta.source === 'mime' && detected && whole) {
      this.mimeShas.add(sha256);
      this.mimeLengths.add(bytes.length);
    }
    this.bytes += bytes.length;
    this.files.push({ ...meta, bytes, sha256, ...(detected ? { detected } : {}) });

    const inner = [...meta.path, meta.name];
    if (kind && !listing) {
      this.problem(
        'depth',
        meta.name,
        meta.path,
        `archives nested deeper than ${this.limits.maxArchiveDepth}`,
      );
    }
    if (listing) {
      this.listings.push({ path: inner, names: listing.names });
      for (const p of listing.problems) this.problem(p.kind, p.member, inner, p.detail);
      for (const m of listing.members) {
        // A gzip member without a stored name is the archive's name without its .gz.
        const name =
          m.name || meta.name.replace(/\.t?gz$/i, (e) => (e.toLowerCase() === '.tgz' ? '.tar' : ''));
        await this.add(m.bytes, { name, path: inner, declaredType: '', source: 'archive' }, depth + 1, false);
      }
    }
    if (!kind && isMessage(meta.declaredType, detected?.ext)) {
      if (depth < this.limits.maxArchiveDepth) await this.message(bytes, inner, depth + 1);
      else
        this.problem(
          'depth',
          meta.name,
          meta.path,
          `messages nested deeper than ${this.limits.maxArchiveDepth}`,
        );
    }
    return true;
  }

  /**
   * True when `bytes` is a lenient re-decode of an attachment mailparser found: same type, same start,
   * a padding byte or two apart. A cleaner cut of a broken file (different length) is kept.
   */
  private redecodes(bytes: Buffer, ext: string): boolean {
    const head = bytes.subarray(0, 256);
    return this.files.some(
      (f) =>
        f.source === 'mime' &&
        f.detected?.ext === ext &&
        Math.abs(f.bytes.length - bytes.length) <= 3 &&
        Buffer.from(f.bytes.subarray(0, head.length)).equals(head.subarray(0, f.bytes.length)),
    );
  }

  private agreesWithMime(body: string, b64: Base64Body): boolean {
    if (this.mimeShas.size === 0) return false;
    // Each plain decoding is made and hashed only when it could still match (base64 first: the common case).
    const matches = (b: Buffer): boolean =>
      b.length > 0 &&
      this.mimeLengths.has(b.length) &&
      this.mimeShas.has(createHash('sha256').update(b).digest('hex'));
    // No decoding is longer than the body (base64: 3 bytes per 4 chars), so one shorter than every
    // attachment cannot be one; without an `=` the quoted-printable decoding is the body's bytes.
    const shortest = Math.min(...this.mimeLengths);
    if (shortest > body.length) return false;
    return (
      (shortest <= Math.floor((body.length * 3) / 4) && matches(b64.reading(0))) ||
      (this.mimeLengths.has(body.length) && matches(Buffer.from(body, 'latin1'))) ||
      (body.includes('=') && matches(decodeQuotedPrintable(body, 'drop-eq')))
    );
  }

  /**
   * What `add` must judge of a lenient candidate: it, then the zips carved out of it, less those it
   * would refuse on their type alone (told without an await, as most are). Offering the same bytes again
   * changes nothing (the first offer kept or refused them for good), unless they are too big: that
   * refusal is reported each time, as before.
   */
  private toJudge(bytes: Buffer, offered: WeakSet<Buffer>): Buffer[] {
    if (offered.has(bytes) && bytes.length <= this.limits.maxFileBytes) return [];
    offered.add(bytes);
    const out = [bytes, ...carveZips(bytes)];
    return out.filter((b) => b.length >= MIN_LENIENT_BYTES && mayHaveTypeNow(b) !== false);
  }

  /**
   * Decodes every segment of `src` every plausible way; keeps what is a recognisable file. Canonical MIME
   * (canonical-mime.ts) has one reading: its parts as decoded, and the files written inside their text.
   */
  private async lenientPass(src: string, path: readonly string[], depth: number): Promise<void> {
    const leaves = canonicalLeaves(src, this.mime);
    if (leaves) return this.canonicalPass(leaves, path, depth);
    const segments = splitSegments(src, this.mime.maxParts * MAX_SEGMENTS_PER_PART);
    const tried = new Set<string>();
    const memo: Base64Memo = new Map();
    const offered = new WeakSet<Buffer>();
    for (const [i, seg] of segments.entries()) {
      // The whole text is read as one body only when nothing splits it: otherwise its parts are read.
      if (i === 0 && segments.length > 1) continue;
      const headers = seg.slice(0, 4096);
      const name =
        /\b(?:file)?name\*?(?:\d\*?)?\s*=\s*["']?([^"';\r\n]{1,255})/i.exec(headers)?.[1]?.trim() ?? '';
      const declaredType = /content-type:\s*([^;\s]+)/i.exec(headers)?.[1]?.toLowerCase() ?? '';
      // The bodies that run to the segment's end, by where they start: a longer one reads only its start.
      const ends: { at: number; b64: Base64Body }[] = [];
      for (const [body, at] of bodies(seg)) {
        const b64 = base64Body(body, memo, at < 0 ? undefined : tailOf(seg, at, ends));
        if (at >= 0) ends.push({ at, b64 });
        if (tried.has(body)) continue;
        tried.add(body);
        // A reading whose plain decoding is an attachment mailparser already gave is no disagreement:
        // skip its other decodings (the common case, and most of the work on clean mail).
        if (this.agreesWithMime(body, b64)) continue;
        for (const item of candidates(body, this.limits.maxFileBytes, b64)) {
          for (const c of 'bytes' in item ? [item] : (await item.may()) ? item.give() : []) {
            const judge = this.toJudge(c.bytes, offered);
            if (judge.length === 0) continue;
            const meta = { name: c.name ?? name, path, declaredType, source: 'lenient' as const };
            for (const bytes of judge) await this.add(bytes, meta, depth, true);
          }
        }
      }
    }
  }

  /**
   * The lenient pass of a canonical message: each part that is not an attachment mailparser gave, as
   * decoded (a text part may be a file to a reader that names it one), and the uuencoded, yEnc and
   * BinHex files written inside it (which some readers decode from text).
   */
  private async canonicalPass(leaves: readonly CanonicalLeaf[], path: readonly string[], depth: number) {
    const offered = new WeakSet<Buffer>();
    for (const leaf of leaves) {
      const name = fileNameIn(leaf.headers);
      const meta = (c: Candidate) => ({
        name: c.name ?? name,
        path,
        declaredType: leaf.type,
        source: 'lenient' as const,
      });
      const judge = async (c: Candidate) => {
        for (const bytes of this.toJudge(c.bytes, offered)) await this.add(bytes, meta(c), depth, true);
      };
      for (const reading of leaf.readings) {
        if (this.isMimeFile(reading)) continue;
        await judge({ bytes: reading });
        for (const c of inText(reading.toString('latin1'), this.limits.maxFileBytes)) await judge(c);
      }
      // The ways other decoders treat bad escapes and breaks, as files, if one may be. Without a bad
      // escape the others read what drop-eq does, but drop-1 (which drops hard breaks too).
      const qp = leaf.quotedPrintable;
      if (qp !== undefined)
        for (const item of quotedPrintableCandidates(qp, hasBadQpEscape(qp) ? OTHER_QP_MODES : DROP_1))
          for (const c of 'bytes' in item ? [item] : (await item.may()) ? item.give() : []) await judge(c);
    }
  }

  private isMimeFile(bytes: Buffer): boolean {
    return (
      this.mimeLengths.has(bytes.length) &&
      this.mimeShas.has(createHash('sha256').update(bytes).digest('hex'))
    );
  }
}

/** The file name a part's headers give (as a lenient reader finds it: any `name=` or `filename=`). */
function fileNameIn(headers: string): string {
  return /\b(?:file)?name\*?(?:\d\*?)?\s*=\s*["']?([^"';\r\n]{1,255})/i.exec(headers)?.[1]?.trim() ?? '';
}

/**
 * The files some readers decode out of text: uuencode, yEnc and BinHex, each from every place one
 * starts (a text may carry several), at most MAX_CARVES of each; and base64 `data:` URIs (inline
 * images in html, or a file a link hands over), at most MAX_DATA_URIS.
 */
function inText(text: string, maxBytes: number): Candidate[] {
  const out: Candidate[] = [];
  DATA_URI.lastIndex = 0;
  for (
    let m = DATA_MARK.test(text) ? DATA_URI.exec(text) : null, n = 0;
    m && n < MAX_DATA_URIS;
    m = DATA_URI.exec(text), n++
  )
    out.push({ bytes: Buffer.from(m[1] as string, 'base64') });
  // Readers decode uuencode from a begin line (the full pass also reads data lines with none).
  for (const at of text.includes('begin') ? startsOf(text, UU_BEGIN_AT) : []) {
    const uu = decodeUuencode(text.slice(at));
    if (uu) out.push(uu);
  }
  for (const at of text.includes('=ybegin') ? startsOf(text, YENC_AT) : []) {
    const y = decodeYenc(text.slice(at));
    if (y) out.push(y);
  }
  for (const at of mayHoldBinhex(text) ? startsOf(text, BINHEX_AT) : []) {
    const b = decodeBinhex(text.slice(at), maxBytes);
    if (b) out.push(b);
  }
  return out;
}
// `data:` then a media type and parameters, `;base64,` and the payload (blanks included: html may wrap it).
const DATA_URI = /data:[^\s,;"'<>]*(?:;[^\s,;"'<>]*)*;base64,([A-Za-z0-9+/=\s]+)/gi;
const DATA_MARK = /data:/i;
const MAX_DATA_URIS = 16;
const UU_BEGIN_AT = /(?:^|\n)begin(?:-base64)?[ \t]+[0-7]{3,4}[ \t]/g;
const YENC_AT = /^=ybegin/gm;
const BINHEX_AT = /\(This file must be converted with BinHex/gi;

/** Where `re` (global) matches in `text`, the first MAX_CARVES times. */
function startsOf(text: string, re: RegExp): number[] {
  const out: number[] = [];
  re.lastIndex = 0;
  for (let m = re.exec(text); m && out.length < MAX_CARVES; m = re.exec(text)) {
    out.push(m.index);
    if (m[0].length === 0) re.lastIndex++;
  }
  return out;
}

// "Password: 1234", "pass - Inv2024", "mot de passe : x", "Kennwort 55", up to 20 of them.
const PASSWORD_HINT =
  /\b(?:password|passwort|kennwort|passcode|pass|pwd|pw|code|mot de passe|contrase(?:ñ|n)a|senha|parola|wachtwoord|has(?:ł|l)o)\b[^\p{L}\p{N}\r\n]{0,12}(?:is\s+)?["'“«]?([^\s"'”»<>]{3,40})/giu;

/** Candidate archive passwords named in the message text, in order of appearance. */
export function passwordsIn(text: string): string[] {
  const found = new Set<string>();
  for (const m of text.slice(0, 200_000).matchAll(PASSWORD_HINT)) {
    const word = (m[1] ?? '').replace(/[.,;:!?)\]]+$/, '');
    if (word) found.add(word);
    if (found.size >= 20) break;
  }
  return [...found];
}

async function detect(bytes: Buffer): Promise<ExtractedFile['detected']> {
  // Most lenient candidates fail every check file-type would make: it is not run on them.
  if (!(await mayHaveType(bytes))) return undefined;
  try {
    const t = await fileTypeFromBuffer(bytes);
    return t ? { ext: t.ext, mime: t.mime } : undefined;
  } catch {
    return undefined;
  }
}

function isMessage(declaredType: string, ext: string | undefined): boolean {
  return declaredType === 'message/rfc822' || declaredType === 'message/global' || ext === 'eml';
}

/** The whole text, then the text between lines that start with `--` (any boundary, declared or not). */
function splitSegments(src: string, max: number): string[] {
  const segments = [src];
  let start = 0;
  for (const m of src.matchAll(/^--[^\r\n]*(\r\n|\r|\n|$)/gm)) {
    if (segments.length >= max) break;
    if (m.index > start) segments.push(src.slice(start, m.index));
    start = m.index + m[0].length;
  }
  if (start > 0 && start < src.length) segments.push(src.slice(start));
  return segments;
}

/**
 * A segment's body under several header readings: after the first blank line, after a whitespace-only
 * line, after the leading header-like lines, all of it; then the first blank-line-separated blocks of
 * those. Each with where it starts in `seg` when it runs to its end (a block: -1).
 */
export function bodies(seg: string): Map<string, number> {
  // Bodies that start apart differ (in length).
  const starts: number[] = [];
  const from = (at: number) => {
    if (!starts.includes(at)) starts.push(at);
  };
  const blank = BLANK_LINE.exec(seg);
  if (blank) from(blank.index + blank[0].length);
  const wsLine = WS_LINE.exec(seg);
  if (wsLine) from(wsLine.index + wsLine[0].length);
  const headerLines = HEADER_LINES.exec(seg);
  if (headerLines) from(headerLines[0].length);
  from(0);
  const out = new Map<string, number>();
  for (const at of starts) out.set(seg.slice(at), at);
  const lines = new WsLines(seg);
  for (const at of starts) {
    const blocks = lines.blocks(at, MAX_BLOCKS);
    if (blocks.length > 1) for (const b of blocks) if (!out.has(b)) out.set(b, -1);
  }
  return out;
}
const BLANK_LINE = new RegExp(`${NL}${NL}`);
// A whitespace-only line: where a body may start, and where blocks split.
const WS_LINE = new RegExp(`${NL}[ \\t\\v\\f]*${NL}`);
const HEADER_LINES = new RegExp(`^(?:[!-9;-~]+[ \\t]*:[^\\r\\n]*${NL}(?:[ \\t][^\\r\\n]*${NL})*)+`);

/**
 * The blocks of the segment's bodies, as `seg.slice(at).split(WS_LINE)` gives them, from one scan of
 * `seg` (found as far as asked): a scan of a body from `at` finds the segment's whitespace-only lines
 * (the scan from its start tried every place but inside those), but for one that starts inside one of
 * them, found there.
 */
class WsLines {
  // The whitespace-only lines the scan from the segment's start found: where each starts and ends.
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  private done = false;
  private readonly next = new RegExp(WS_LINE.source, 'g');
  private readonly here = new RegExp(WS_LINE.source, 'y');

  constructor(private readonly seg: string) {}

  /** The first `max` blocks that are not whitespace alone of the body from `at`. */
  blocks(at: number, max: number): string[] {
    const out: string[] = [];
    for (let p = at; out.length < max; ) {
      const line = this.lineFrom(p);
      const block = this.seg.slice(p, line ? line.start : this.seg.length);
      if (block.trim().length > 0) out.push(block);
      if (!line) break;
      p = line.end;
    }
    return out;
  }

  /** The first whitespace-only line a scan from `p` finds. */
  private lineFrom(p: number): { start: number; end: number } | undefined {
    // The segment's first line that ends after p (found as far as needed).
    let k = 0;
    for (;;) {
      k = this.firstEndingAfter(p);
      if (k < this.starts.length || this.done) break;
      this.more();
    }
    if (k >= this.starts.length) return undefined;
    const start = this.starts[k] as number;
    const end = this.ends[k] as number;
    // p inside it: a line may start between p and its end (the scan from the segment's start went past).
    if (start < p)
      for (let q = p; q < end; q++) {
        this.here.lastIndex = q;
        const m = this.here.exec(this.seg);
        if (m) return { start: q, end: q + m[0].length };
      }
    if (start >= p) return { start, end };
    k++;
    while (k >= this.starts.length && !this.done) this.more();
    return k < this.starts.length
      ? { start: this.starts[k] as number, end: this.ends[k] as number }
      : undefined;
  }

  private firstEndingAfter(p: number): number {
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.ends[mid] as number) <= p) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private more(): void {
    this.next.lastIndex = this.ends.length ? (this.ends[this.ends.length - 1] as number) : 0;
    const m = this.next.exec(this.seg);
    if (!m) this.done = true;
    else {
      this.starts.push(m.index);
      this.ends.push(m.index + m[0].length);
    }
  }
}

interface Candidate {
  readonly name?: string;
  readonly bytes: Buffer;
}

/** Candidates that come only if a check that needs an await (file-type on their heads) says they may. */
interface Gated {
  readonly may: () => Promise<boolean>;
  readonly give: () => Iterable<Candidate>;
}

/** Whether at least 5% of `s` is spaces (counting stops as soon as it is; indexOf finds each natively). */
function isProse(s: string): boolean {
  let n = 0;
  for (let i = s.indexOf(' '); i >= 0; i = s.indexOf(' ', i + 1)) if (++n / s.length >= 0.05) return true;
  return false;
}

// What each base64 reading decodes: the plain one, `=` ending a quad, line prefixes, whole quads.
const BASE64_TEXTS: readonly ((body: string) => string)[] = [
  (b) => base64Text(b, false),
  (b) => base64Text(b, true),
  base64LinePrefixes,
  base64WholeQuads,
];

/**
 * A body's four base64 readings, each decoded when first asked for. A body that ends with one read
 * before, just after a line break (a part's body, read again with the part's headers), decodes only its
 * own start: each reading's text is the start's text then the tail's (line breaks are junk to the plain
 * ones, and the line ones read line by line), decoded as Base64Runs says from the tail's decodings.
 */
class Base64Body {
  private readonly runs: Base64Runs[] = [];
  private readonly readings: Buffer[] = [];

  constructor(
    private readonly body: string,
    private readonly tail?: { readonly head: string; readonly b64: Base64Body },
  ) {}

  /** Reading `i`'s text, run by run (reading 0's has no `=`: one run). */
  private runsOf(i: number): Base64Runs {
    let runs = this.runs[i];
    if (runs) return runs;
    const read = BASE64_TEXTS[i] as (b: string) => string;
    const tail = this.tail;
    // `=` ends a quad only when base64 characters follow it: otherwise both paddings read the same. And
    // plain base64 (an attachment's body) reads the same every way.
    if (i > 0 && ((i === 1 && this.noBase64AfterPad()) || this.isPlain())) runs = this.runsOf(0);
    else if (tail) runs = new Base64Runs(() => read(tail.head), tail.b64.runsOf(i));
    else runs = new Base64Runs(() => this.text(i));
    this.runs[i] = runs;
    return runs;
  }

  /**
   * Reading `i`'s text, or for the plain readings one Node decodes alike. A body with a space (never
   * plain base64: all four readings are decoded) has its junk taken out once, for the whole-quad reading
   * and the two plain ones, which Node then decodes without stopping at each junk char.
   */
  private text(i: number): string {
    if (i === 2 || (i < 2 && !this.body.includes(' ')))
      return (BASE64_TEXTS[i] as (b: string) => string)(this.body);
    this.kept ??= base64Kept(this.body);
    if (i === 3) return wholeQuadsOf(this.kept);
    return i === 1 || !this.kept.includes('=') ? this.kept : this.kept.replaceAll('=', '');
  }
  private kept: string | undefined;

  /** Reading `i` (an index in BASE64_TEXTS). */
  reading(i: number): Buffer {
    this.readings[i] ??= this.runsOf(i).bytes();
    return this.readings[i];
  }

  /** The uuencode reading: the tail's when the start adds no uuencoded line. */
  uuencoded(): ReturnType<typeof decodeUuencode> {
    if (!this.uuDone) {
      this.uu =
        this.tail && !changesUuencode(this.tail.head) ? this.tail.b64.uuencoded() : decodeUuencode(this.body);
      this.uuDone = true;
    }
    return this.uu;
  }
  private uu: ReturnType<typeof decodeUuencode>;
  private uuDone = false;

  private isPlain(): boolean {
    this.plain ??= isPlainBase64(this.body, () => this.reading(0));
    return this.plain;
  }
  private plain: boolean | undefined;

  private noBase64AfterPad(): boolean {
    const eq = this.body.indexOf('=');
    return eq < 0 || !/[A-Za-z0-9+/]/.test(this.body.slice(eq));
  }
}

/** The bodies of the message's lenient pass, by their text without line breaks at either end. */
type Base64Memo = Map<string, Base64Body>;
// Bodies up to this long keep their base64 readings for the rest of the message's lenient pass.
const MAX_MEMO_CHARS = 1 << 20;

/** `s` without the CRs and LFs at either end. */
function trimLineBreaks(s: string): string {
  const isBreak = (c: number) => c === 10 || c === 13;
  let start = 0;
  let end = s.length;
  while (start < end && isBreak(s.charCodeAt(start))) start++;
  while (end > start && isBreak(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/**
 * `body`'s base64 readings: the same for a body that differs only in leading or trailing line breaks,
 * and from `tail` on, when given, the tail's.
 */
function base64Body(
  body: string,
  memo: Base64Memo,
  tail: { readonly head: string; readonly b64: Base64Body } | undefined,
): Base64Body {
  const key = trimLineBreaks(body);
  let b64 = memo.get(key);
  if (!b64) {
    b64 = new Base64Body(body, tail);
    if (key.length <= MAX_MEMO_CHARS) memo.set(key, b64);
  }
  return b64;
}

/**
 * The longest of `ends` (bodies running to the end of `seg`) that starts after `at` just after a line
 * break, with what comes before it from `at`; none when that is longer than the tail.
 */
function tailOf(
  seg: string,
  at: number,
  ends: readonly { at: number; b64: Base64Body }[],
): { head: string; b64: Base64Body } | undefined {
  let best: { at: number; b64: Base64Body } | undefined;
  for (const end of ends) {
    const c = seg.charCodeAt(end.at - 1);
    if (end.at > at && (c === 10 || c === 13) && (!best || end.at < best.at)) best = end;
  }
  // A tail shorter than its head saves less than the joining costs (an empty one, at the segment's end,
  // nothing).
  if (!best || seg.length - best.at < best.at - at) return undefined;
  return { head: seg.slice(at, best.at), b64: best.b64 };
}

/**
 * Every way a client might decode `body`. Readings that give the same bytes may come as the same
 * Buffer: the caller offers each Buffer once. The quoted-printable readings and the raw bytes are decoded
 * in full only when the first bytes of one may be a file (head-type.ts) or their bytes may hold a zip's end
 * record (where carveZips cuts): the others could never be kept.
 */
function* candidates(body: string, maxBytes: number, b64: Base64Body): Generator<Candidate | Gated> {
  // Prose (many spaces) is no base64, however it is read: skip the four base64 readings of it.
  if (body.length <= 256 || !isProse(body)) {
    // Not gated: judging the four readings by their starts, and proving no zip end record in their chars,
    // cost about what decoding them does.
    for (let i = 0; i < BASE64_TEXTS.length; i++) yield { bytes: b64.reading(i) };
  }
  if (/=[0-9A-Fa-f]{2}/.test(body)) yield* quotedPrintableCandidates(body, QP_MODES);
  const uu = b64.uuencoded();
  if (uu) yield uu;
  if (body.includes('=ybegin')) {
    const y = decodeYenc(body);
    if (y) yield y;
  }
  if (mayHoldBinhex(body)) {
    const b = decodeBinhex(body, maxBytes);
    if (b) yield b;
  }
  const noIsoMark = body.slice(ISO_MARK_AT, ISO_MARK_AT + ISO_MARK.length) !== ISO_MARK;
  const want = headBytesFor(body.length, noIsoMark);
  const raw = () => [{ bytes: Buffer.from(body, 'latin1') }];
  if (body.length <= want || body.includes('PK\x05\x06')) yield* raw();
  else {
    const head = Buffer.from(body.slice(0, want), 'latin1');
    if (mayBeFileNow(head, body.length, noIsoMark) !== false)
      yield { may: () => mayBeFile(head, body.length, noIsoMark), give: raw };
  }
}

const QP_MODES: readonly QpBadEscape[] = ['drop-eq', 'keep', 'drop-1', 'drop-2'];
// A canonical part's reading is drop-eq's.
const OTHER_QP_MODES: readonly QpBadEscape[] = ['keep', 'drop-1', 'drop-2'];
// Without a bad escape, keep, drop-eq and drop-2 read alike: drop-1 alone differs (it drops hard breaks).
const DROP_1: readonly QpBadEscape[] = ['drop-1'];

/**
 * `body`'s quoted-printable readings in `modes`, decoded in full only when the first bytes of one may be
 * a file or a zip's end record may stand in one (where carveZips cuts).
 */
function* quotedPrintableCandidates(
  body: string,
  modes: readonly QpBadEscape[],
): Generator<Candidate | Gated> {
  const all = () => Array.from(quotedPrintableReadings(body, modes), ({ bytes }) => ({ bytes }));
  if (quotedPrintableMayCarveZip(body)) yield* all();
  else {
    // Ruling the ISO 9660 mark out of every quoted-printable reading is not worth it: big bodies judge by 32 KB.
    const heads = decodedHeads(
      body,
      headBytesFor(body.length, false),
      // All at once: they share their soft-break removal and, without bad escapes, their bytes.
      (b) => Array.from(quotedPrintableReadings(b, modes), (r) => r.bytes),
    );
    if (!heads) yield* all();
    else if (!heads.every((h) => mayBeFileNow(h, body.length) === false))
      yield { may: () => someMayBeFile(heads, body.length), give: all };
  }
}

/**
 * False when `body` cannot hold BinHex's `(This file must be converted with BinHex` (any case), which
 * decodeBinhex looks for: no `(` is followed by `this`. Quicker than a case-blind search of the body.
 */
function mayHoldBinhex(body: string): boolean {
  for (let i = body.indexOf('('); i >= 0; i = body.indexOf('(', i + 1))
    if ((body.charCodeAt(i + 1) | 0x20) === 0x74 && body.slice(i + 1, i + 5).toLowerCase() === 'this')
      return true;
  return false;
}

/** Whether any of `heads` (of readings each at most `sizeAtMost` bytes) may be typed as a file. */
async function someMayBeFile(heads: readonly Buffer[], sizeAtMost: number): Promise<boolean> {
  const judged: Buffer[] = [];
  for (const head of heads) {
    // Readings often start alike: one answer serves them all.
    if (judged.some((h) => h.equals(head))) continue;
    if (await mayBeFile(head, sizeAtMost)) return true;
    judged.push(head);
  }
  return false;
}

// A quoted-printable reading holds byte 0x05 (or 0x06) only as that char or as an `=05` escape, whose
// chars soft breaks (`=`, blanks, a line break) may have split.
/** False when no quoted-printable reading of `body` can hold a zip's end record `PK\x05\x06`. */
export const quotedPrintableMayCarveZip = (body: string): boolean =>
  (body.includes('\u0005') || hasQpEscape0(body, 0x35)) &&
  (body.includes('\u0006') || hasQpEscape0(body, 0x36));

// `=`, a blank or a line break: the chars soft breaks may put inside an escape.
const isSoftBreakChar = (c: number): boolean =>
  c === 0x3d || c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;

/**
 * Whether `body` holds an escape `=0` then `digit`, whose chars soft breaks may have split: an `=`, then
 * past soft-break chars a `0`, then past those the digit. Each run of `=` and soft-break chars is read
 * once (every `=` in it reaches the same next char): linear even on a megabyte of them.
 */
function hasQpEscape0(body: string, digit: number): boolean {
  const past = (i: number): number => {
    while (i < body.length && isSoftBreakChar(body.charCodeAt(i))) i++;
    return i;
  };
  for (let eq = body.indexOf('='); eq >= 0; ) {
    const zero = past(eq + 1);
    if (body.charCodeAt(zero) === 0x30 && body.charCodeAt(past(zero + 1)) === digit) return true;
    eq = body.indexOf('=', zero);
  }
  return false;
}

// Where a line ends: after an LF, or after a CR that no LF follows.
const LINE_END = /\n|\r(?!\n)/g;
// Bytes at the end of a decoded head that what follows the cut may still change (a quad or an escape
// cut short).
const HEAD_SLACK = 3;

/**
 * The first `want` or more bytes of `decode(body)`, from decoding only a start of `body` that ends with
 * a line break (every reading decodes whole lines alike); undefined when that start is nearly all of it.
 */
export function decodedHead(
  body: string,
  want: number,
  decode: (body: string) => Buffer,
): Buffer | undefined {
  return decodedHeads(body, want, (b) => [decode(b)])?.[0];
}

/** decodedHead for several readings at once, `read` giving them all from the same start of `body`. */
export function decodedHeads(
  body: string,
  want: number,
  read: (body: string) => readonly Buffer[],
): Buffer[] | undefined {
  for (let cut = want * 2; cut < body.length; cut *= 2) {
    LINE_END.lastIndex = cut;
    const end = LINE_END.exec(body);
    if (!end || end.index + 1 >= body.length) return undefined;
    const readings = read(body.slice(0, end.index + 1));
    if (readings.every((bytes) => bytes.length - HEAD_SLACK >= want))
      return readings.map((bytes) => bytes.subarray(0, bytes.length - HEAD_SLACK));
  }
  return undefined;
}

/** Zips inside `bytes` (after leading junk, or before trailing data), each cut at its end-of-central-directory record. */
function carveZips(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = archiveKind(bytes) === 'zip' ? 0 : bytes.indexOf('PK\x03\x04', 1, 'latin1');
  while (start >= 0 && out.length < MAX_CARVES) {
    const eocd = bytes.indexOf('PK\x05\x06', start, 'latin1');
    if (eocd < 0 || eocd + 22 > bytes.length) break;
    const end = Math.min(bytes.length, eocd + 22 + bytes.readUInt16LE(eocd + 20));
    if (start > 0 || end < bytes.length) out.push(bytes.subarray(start, end));
    start = bytes.indexOf('PK\x03\x04', start + 4, 'latin1');
  }
  return out;
}
