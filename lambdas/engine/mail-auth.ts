// DKIM, SPF, ARC and DMARC for one message: what mailauth's authenticate() computes, through the same
// mailauth functions, minus what the auth scanner never reads. authenticate() also parses every
// Received header (for a trustReceived option we do not use) and formats Authentication-Results and
// Received-SPF headers; and its DKIM pass looks for the end of the header block one byte at a time,
// keeping a sliding window in a fresh array per byte, which cost more than the rest of the check.
// Here the header block's end is found with indexOf and handed to mailauth's own verifier, split into
// the rows mailauth's header parser gives (parseHeaderBlock); the body, with mailauth's line breaks put
// in only when a signature needs its hash, goes to its body hashes (the relaxed one read line by line,
// the others in the 64 KiB pieces mailauth's writer would give them); the signatures' tag lists and
// signed header fields are read by dkim-verifier.ts. Equivalence to authenticate() is tested
// (test/engine/mail-auth.test.ts).

import { isIP } from 'node:net';
import {
  type ARCResult,
  arc,
  type DKIMVerifyResult,
  type DNSResolver,
  dmarc,
  type SPFResult,
  spf,
} from 'mailauth';
import { RelaxedHash } from 'mailauth/lib/dkim/body/relaxed.js';
import { DkimVerifier } from 'mailauth/lib/dkim/dkim-verifier.js';
import type { HeaderRow } from './dkim-headers.ts';
import { Verifier } from './dkim-verifier.ts';

/** The connection and envelope, as authenticate() takes them. */
export interface AuthOptions {
  readonly resolver: DNSResolver;
  readonly ip?: string;
  readonly helo?: string;
  /** MAIL FROM; without it DKIM takes the Return-Path header. */
  readonly sender?: string;
  /** This host's name, for SPF's comments. */
  readonly mta: string;
  /**
   * Leave SPF out when there is no client IP (spf is then false): mailauth answers neutral without a
   * lookup, a result only worded for its headers, and DMARC counts only an SPF pass.
   */
  readonly spfOnlyWithIp?: boolean;
}

/** authenticate()'s dkim, spf, arc and dmarc results. */
export interface AuthResults {
  readonly dkim: Pick<DKIMVerifyResult, 'headerFrom' | 'envelopeFrom' | 'results'>;
  readonly spf: SPFResult | false;
  readonly arc: ARCResult;
  readonly dmarc: Awaited<ReturnType<typeof dmarc>>;
}

// The piece size of mailauth's writeToStream, which dkimVerify() feeds the verifier with.
const CHUNK_BYTES = 64 * 1024;

/**
 * Where the header block ends, as mailauth's verifier finds it: the first LF right after an LF or after
 * LF CR. The index of that LF, or -1 when there is no blank line.
 */
export function headerBlockEnd(bytes: Uint8Array): number {
  for (let i = bytes.indexOf(0x0a); i >= 0; i = bytes.indexOf(0x0a, i + 1)) {
    if (i >= 1 && bytes[i - 1] === 0x0a) return i;
    if (i >= 2 && bytes[i - 1] === 0x0d && bytes[i - 2] === 0x0a) return i;
  }
  return -1;
}

// The characters /^\s/ finds at the start of a latin1 line: a folded header's continuation.
const isFoldSpace = (b: number): boolean => b === 0x20 || (b >= 0x09 && b <= 0x0d) || b === 0xa0;

/**
 * mailauth's parseHeaders(block), the same rows, in one pass over the block (read as one latin1
 * string): mailauth's splits the block into lines, then joins folded lines from the last one up,
 * splicing its array once per folded line, and copies every header into a new buffer. Here a header
 * whose lines end in CRLF is the block's own bytes (the same bytes the CRLF join gives), cut out only
 * when read (most rows are only looked up by name); only one with a bare LF is joined anew.
 * Equivalence is property-tested against mailauth's (test/engine/mail-auth.test.ts).
 */
export function parseHeaderBlock(block: Buffer): { parsed: HeaderRow[]; original: Buffer } {
  const text = block.toString('latin1');
  // mailauth drops the trailing line breaks (/[\r\n]+$/), then splits at /\r?\n/.
  let end = text.length;
  while (end > 0 && (text.charCodeAt(end - 1) === 0x0a || text.charCodeAt(end - 1) === 0x0d)) end--;
  const parsed: HeaderRow[] = [];
  // The header being read: where its first line starts, where its last line ends, and whether a line
  // of it ended in a bare LF (then its CRLF-joined text is not the block's bytes).
  let start = 0;
  let last = 0;
  let bareLf = false;
  for (let from = 0, first = true; ; first = false) {
    const lf = text.indexOf('\n', from);
    const next = lf >= 0 && lf < end ? lf : end;
    // This line is [from, to); a CR right before its LF belongs to the break.
    const to = next < end && next > from && text.charCodeAt(next - 1) === 0x0d ? next - 1 : next;
    if (first) last = to;
    else if (from < to && isFoldSpace(text.charCodeAt(from))) {
      if (from - last !== 2) bareLf = true;
      last = to;
    } else {
      parsed.push(new BlockRow(block, text, start, last, bareLf));
      start = from;
      last = to;
      bareLf = false;
    }
    if (next === end) break;
    from = next + 1;
  }
  parsed.push(new BlockRow(block, text, start, last, bareLf));
  return { parsed, original: block };
}

// What String.prototype.trim() drops, among latin1 characters.
const isTrimmed = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0;

/**
 * The row of a header at [start, end) of the block: its name read now (what /^[^:]+/ finds in its
 * text, trimmed), its bytes cut out when read. A header a line of which broke at a bare LF has its
 * lines joined anew with CRLF, when read too.
 */
class BlockRow implements HeaderRow {
  readonly key: string | null = null;
  readonly casedKey: string | undefined;
  #line: Buffer | undefined;
  readonly #block: Buffer;
  readonly #text: string;
  readonly #start: number;
  readonly #end: number;
  readonly #bareLf: boolean;

  constructor(block: Buffer, text: string, start: number, end: number, bareLf: boolean) {
    this.#block = block;
    this.#text = text;
    this.#start = start;
    this.#end = end;
    this.#bareLf = bareLf;
    let nameEnd = text.indexOf(':', start);
    if (nameEnd < 0 || nameEnd > end) nameEnd = end;
    // None when the row is empty or starts with a colon.
    if (nameEnd === start) return;
    let from = start;
    while (from < nameEnd && isTrimmed(text.charCodeAt(from))) from++;
    while (nameEnd > from && isTrimmed(text.charCodeAt(nameEnd - 1))) nameEnd--;
    this.casedKey = text.slice(from, nameEnd);
    // A name broken over lines at a bare LF reads with the CR its joined text gets.
    if (bareLf && this.casedKey.includes('\n')) this.casedKey = this.casedKey.replace(/\r?\n/g, '\r\n');
    this.key = this.casedKey.toLowerCase();
  }

  get line(): Buffer {
    this.#line ??= this.#bareLf
      ? Buffer.from(this.#text.slice(this.#start, this.#end).split(/\r?\n/).join('\r\n'), 'latin1')
      : this.#block.subarray(this.#start, this.#end);
    return this.#line;
  }
}

/**
 * `raw` with every line feed that mailauth would turn into CRLF already turned: a line feed gets a CR
 * before it unless the last byte before it that is not a line feed is a CR (mailauth's own rule, in
 * its ensureLinebreaks, so "\r\n\n" stays as it is). mailauth then hashes the same bytes, but in one
 * piece instead of one awaited chunk per line of an LF message, which cost it more than the hashing.
 */
export function mailauthLineBreaks(raw: Uint8Array): Buffer {
  const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  // The line feeds that get a CR, found line by line with native searches (not byte by byte in JS).
  const bare: number[] = [];
  let lastNotLf = -1;
  let previousLf = -1;
  for (let i = bytes.indexOf(0x0a); i >= 0; i = bytes.indexOf(0x0a, i + 1)) {
    if (i > previousLf + 1) lastNotLf = bytes[i - 1]!;
    if (lastNotLf !== 0x0d) bare.push(i);
    previousLf = i;
  }
  if (bare.length === 0) return bytes;
  const out = Buffer.allocUnsafe(bytes.length + bare.length);
  let from = 0;
  let o = 0;
  for (const i of bare) {
    o += bytes.copy(out, o, from, i);
    out[o++] = 0x0d;
    from = i;
  }
  bytes.copy(out, o, from);
  return out;
}

/** Whether mailauth's body hash stops at an l= length (its own test, in RelaxedHash._updateBodyHash). */
const isLengthLimited = (max: unknown): boolean => typeof max === 'number' && max >= 0;

/**
 * The relaxed body hash of `body`, as mailauth's RelaxedHash.update() gives it, without its loop over
 * every byte in JS: lines are found with native searches, the lines mailauth rewrites (a tab, two
 * spaces, a space before the line break, a bare LF) go through its own fixLineBuffer(), the others
 * are hashed as they are, and the empty lines at the end are left out as its queue leaves them. Only
 * for a hash without an l= limit, where the result does not depend on how the body was cut into
 * pieces. Equivalence is property-tested against authenticate() (test/engine/mail-auth.test.ts).
 */
function hashRelaxedBody(hash: RelaxedHash, body: Buffer): void {
  const text = body.toString('latin1');
  if (!hasStrayBreak(text)) {
    hashRelaxedText(hash, body, text);
    return;
  }
  const pieces: Buffer[] = [];
  const n = body.length;
  // Where the lines passed on as they are begin, and the next tab and double space at or after a line.
  let kept = 0;
  let tab = body.indexOf(0x09);
  let spaces = body.indexOf('  ');
  for (let start = 0; start < n; ) {
    const lf = body.indexOf(0x0a, start);
    const end = lf < 0 ? n : lf;
    if (tab >= 0 && tab < start) tab = body.indexOf(0x09, start);
    if (spaces >= 0 && spaces < start) spaces = body.indexOf('  ', start);
    const rewritten =
      (tab >= 0 && tab < end) ||
      (spaces >= 0 && spaces < end) ||
      (lf >= 0 && (lf === 0 || body[lf - 1] !== 0x0d || (lf >= 2 && body[lf - 2] === 0x20)));
    const next = lf < 0 ? n : lf + 1;
    if (rewritten) {
      if (start > kept) pieces.push(body.subarray(kept, start));
      pieces.push(hash.fixLineBuffer(body.subarray(start, next)));
      kept = next;
    }
    start = next;
  }
  if (kept < n) pieces.push(body.subarray(kept));
  // The line breaks after the last other byte are never hashed (mailauth queues them until more text).
  let last = pieces.length - 1;
  for (; last >= 0; last--) {
    const piece = pieces[last]!;
    let i = piece.length - 1;
    while (i >= 0 && (piece[i] === 0x0a || piece[i] === 0x0d)) i--;
    if (i >= 0) {
      pieces[last] = piece.subarray(0, i + 1);
      break;
    }
  }
  hash.byteLength += n;
  for (let k = 0; k <= last; k++) if (pieces[k]!.length) hash._updateBodyHash(pieces[k]!);
}

/**
 * Whether `text` has a CR that does not start a CRLF or an LF that does not end one: what
 * /\r(?!\n)|(?<!\r)\n/ finds, found from each break (the regex, with its look-behind, cost more than
 * hashing the body).
 */
function hasStrayBreak(text: string): boolean {
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1))
    if (i === 0 || text.charCodeAt(i - 1) !== 0x0d) return true;
  for (let i = text.indexOf('\r'); i >= 0; i = text.indexOf('\r', i + 1))
    if (text.charCodeAt(i + 1) !== 0x0a) return true;
  return false;
}
const isWsp = (c: number): boolean => c === 0x20 || c === 0x09;

/**
 * `text.replace(/[ \t]+\r\n/g, '\r\n')` (or, for `lineBreak` LF, `/[ \t]+\n/g`), found from each space
 * or tab right before a break (the regex starts a match at every space of the text, and most are
 * between words); `text` itself when there is none.
 */
export function withoutTrailingWsp(text: string, lineBreak: '\r\n' | '\n' = '\r\n'): string {
  const spaceBreak = ` ${lineBreak}`;
  const tabBreak = `\t${lineBreak}`;
  let space = text.indexOf(spaceBreak);
  let tab = text.indexOf(tabBreak);
  if (space < 0 && tab < 0) return text;
  let out = '';
  let copied = 0;
  while (space >= 0 || tab >= 0) {
    const at = space < 0 ? tab : tab < 0 ? space : Math.min(space, tab);
    let start = at;
    while (start > copied && isWsp(text.charCodeAt(start - 1))) start--;
    out += text.slice(copied, start);
    copied = at + 1;
    if (space === at) space = text.indexOf(spaceBreak, at + 1);
    if (tab === at) tab = text.indexOf(tabBreak, at + 1);
  }
  return out + text.slice(copied);
}

/**
 * `text.replace(/[ \t]{2,}|\t/g, ' ')`, found from each double space and each tab; `text` itself when
 * there is none.
 */
export function wspRunsAsSpace(text: string): string {
  let spaces = text.indexOf('  ');
  let tab = text.indexOf('\t');
  if (spaces < 0 && tab < 0) return text;
  let out = '';
  let copied = 0;
  while (spaces >= 0 || tab >= 0) {
    const at = spaces < 0 ? tab : tab < 0 ? spaces : Math.min(spaces, tab);
    // The run around it: a tab found first may follow one space.
    let start = at;
    while (start > copied && isWsp(text.charCodeAt(start - 1))) start--;
    let end = at + 1;
    while (end < text.length && isWsp(text.charCodeAt(end))) end++;
    out += `${text.slice(copied, start)} `;
    copied = end;
    if (spaces >= 0 && spaces < end) spaces = text.indexOf('  ', end);
    if (tab >= 0 && tab < end) tab = text.indexOf('\t', end);
  }
  return out + text.slice(copied);
}

/**
 * hashRelaxedBody() for a body whose every line ends in CRLF but maybe the last (one without a stray
 * CR or LF), in native searches over its text: on such lines fixLineBuffer() only drops the spaces
 * and tabs before the break and makes every other run of them one space, and the lines mailauth
 * leaves as they are have no such run, so the rewrite is the same for all of them; but the last line
 * when it has no break, which mailauth rewrites only for a tab or two spaces (a single space at its
 * end stays).
 */
function hashRelaxedText(hash: RelaxedHash, body: Buffer, text: string): void {
  const tailStart = text.lastIndexOf('\n') + 1;
  const lines = text.slice(0, tailStart);
  const last = text.slice(tailStart);
  // Many bodies have no tab or double space, or no space before a break: a body with neither is
  // hashed from its own bytes.
  const head = wspRunsAsSpace(withoutTrailingWsp(lines));
  const tail =
    last.includes('\t') || last.includes('  ') ? wspRunsAsSpace(last.replace(/[ \t]+$/, '')) : last;
  const rewritten = head !== lines || tail !== last;
  const canonical = rewritten ? head + tail : text;
  // The line breaks after the last other byte are never hashed (mailauth queues them until more text).
  let end = canonical.length;
  while (end > 0 && (canonical.charCodeAt(end - 1) === 0x0a || canonical.charCodeAt(end - 1) === 0x0d)) end--;
  hash.byteLength += body.length;
  if (end)
    hash._updateBodyHash(rewritten ? Buffer.from(canonical.slice(0, end), 'latin1') : body.subarray(0, end));
}

/**
 * hashRelaxedText() for the body of a message without a CR, to which mailauthLineBreaks() would give
 * a CR before every LF: on such lines the rewriting never touches a break, so the body is
 * canonicalized as it is, with `/[ \t]+\n/` for `/[ \t]+\r\n/`, and the CRs put in after (not copied
 * into the whole message first).
 */
function hashRelaxedLfText(hash: RelaxedHash, text: string): void {
  const tailStart = text.lastIndexOf('\n') + 1;
  const last = text.slice(tailStart);
  const head = wspRunsAsSpace(withoutTrailingWsp(text.slice(0, tailStart), '\n'));
  const tail =
    last.includes('\t') || last.includes('  ') ? wspRunsAsSpace(last.replace(/[ \t]+$/, '')) : last;
  const lf = head + tail;
  const canonical = lf.replaceAll('\n', '\r\n');
  // The body as mailauth reads it has a CR for each LF, which the rewriting keeps.
  hash.byteLength += text.length + (canonical.length - lf.length);
  let end = canonical.length;
  while (end > 0 && (canonical.charCodeAt(end - 1) === 0x0a || canonical.charCodeAt(end - 1) === 0x0d)) end--;
  if (end) hash._updateBodyHash(Buffer.from(canonical.slice(0, end), 'latin1'));
}

/**
 * Feeds the body of `raw` with mailauth's line breaks (mailauthLineBreaks(), made only when a hash
 * needs it) to each body hash the signatures ask for, one per canonicalization, algorithm and length
 * limit: what the verifier's nextChunk() would feed them.
 */
function hashBody(verifier: DkimVerifier, raw: Buffer): void {
  const withoutCr = raw.indexOf(0x0d) < 0;
  let message: Buffer | undefined;
  for (const hash of verifier.bodyHashes.values()) {
    const relaxed = hash instanceof RelaxedHash && !isLengthLimited(hash.maxBodyLength);
    if (relaxed && withoutCr) {
      hashRelaxedLfText(hash, raw.toString('latin1', headerBlockEnd(raw) + 1));
      continue;
    }
    message ??= mailauthLineBreaks(raw);
    const start = headerBlockEnd(message) + 1;
    if (relaxed) {
      hashRelaxedBody(hash, message.subarray(start));
      continue;
    }
    for (let at = 0; at < message.length; at += CHUNK_BYTES) {
      const from = Math.max(at, start);
      const to = Math.min(at + CHUNK_BYTES, message.length);
      if (from < to) hash.update(message.subarray(from, to));
    }
  }
}

/**
 * dkimVerify() on mailauthLineBreaks(message) (every LF after a CR, as mailauth reads a message): the
 * same verifier, given the same header rows and body bytes.
 */
export async function verifyDkim(
  message: Buffer,
  opts: Pick<AuthOptions, 'resolver' | 'sender'>,
): Promise<AuthResults['dkim'] & { readonly arc: DkimVerifier['arc'] }> {
  const options = { resolver: opts.resolver, ...(opts.sender ? { sender: opts.sender } : {}) };
  // The header block ends at the same header whether or not the bare LFs got their CRs, and its rows
  // are the same (mailauth joins a header's lines with CRLF): only the body needs mailauth's line
  // breaks, and only when a signature asks for its hash.
  const end = headerBlockEnd(message);
  let verifier: DkimVerifier;
  if (end < 0) {
    // Headers only: mailauth's own verifier and reading, which keeps the bytes and parses them at the end.
    verifier = new DkimVerifier(options);
    if (message.length) await verifier.processChunk(mailauthLineBreaks(message));
  } else {
    verifier = new Verifier(options);
    await verifier.messageHeaders(parseHeaderBlock(message.subarray(0, end + 1)));
    if (verifier.bodyHashes.size) hashBody(verifier, message);
  }
  await verifier.finish();
  const { headerFrom, envelopeFrom, results, arc } = verifier;
  return { headerFrom, envelopeFrom, results, arc };
}

/**
 * authenticate(mailauthLineBreaks(message), opts) without BIMI, sealing, the Received chain or the
 * headers it formats.
 */
export async function authenticateMessage(message: Buffer, opts: AuthOptions): Promise<AuthResults> {
  const { resolver, ip, sender, mta } = opts;
  const dkim = await verifyDkim(message, opts);
  // authenticate()'s HELO: the IP when none was given, an IP in brackets.
  let helo = opts.helo || ip;
  if (helo && isIP(helo)) helo = `[${helo}]`;
  // Without an IP too, as authenticate() calls it, unless asked not to.
  const spfResult =
    opts.spfOnlyWithIp && !ip
      ? false
      : await spf({
          resolver,
          ip: ip as string,
          mta,
          ...(helo ? { helo } : {}),
          ...(sender ? { sender } : {}),
        });
  // The verifier's ARC reading (its chain is false when there is none), which arc() takes as it is.
  const arcResult = await arc(dkim.arc as never, { resolver });
  const dmarcResult = await dmarc({
    headerFrom: dkim.headerFrom,
    spfDomains: spfResult && spfResult.status.result === 'pass' && spfResult.domain ? [spfResult.domain] : [],
    dkimDomains: dkim.results
      .filter((r) => r.status.result === 'pass')
      .map((r) => ({
        id: r.id,
        domain: r.signingDomain,
        aligned: r.status.aligned,
        underSized: r.status.underSized,
      })),
    arcResult,
    resolver,
  });
  return { dkim, spf: spfResult, arc: arcResult, dmarc: dmarcResult };
}
