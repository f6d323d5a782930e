// mailparser's simpleParser(), with three costs taken out. The html parts become text through the
// converter the caller gives: mailparser calls html-to-text for each part, a DOM and a selector tree
// built anew each time, where parse reads each html part once for its text and its links together
// (html-reading.ts). Only the header fields something reads are decoded into `headers`
// (DECODED_HEADERS): mailparser decoded every field of every part, parsing each address list and List-*
// field into objects nobody used, about a third of its reading. And no streams: mailparser pipes each
// part through a chain of Transform streams (a decoder, a charset decoder, a hasher) and takes every
// piece of the message on its own event loop turn; here its splitter's pieces are taken as they come
// and each body is decoded whole by the same libraries (readMailParts). The walk that makes the text is
// mailparser's own: the same parts converted, the same limits, the same joins; every other result but
// `headers` (and `otp`) is mailparser's (test/engine/mail-reading.test.ts holds both to simpleParser's,
// giving it html-to-text as the converter).

import { isAscii } from 'node:buffer';
import { createHash } from 'node:crypto';
import libbase64 from 'libbase64';
import { decode as decodeCharset } from 'libmime/lib/charset.js';
import { type EmailAddress, MailParser, type MailParserOptions, type ParsedMail } from 'mailparser';

/** Turns one html part into its text; what it throws becomes the mail's textConversionError. */
export type HtmlToText = (html: string) => string;

// mailparser's limit on element nesting: deeper html is not converted.
const MAX_HTML_NESTING_DEPTH = 1000;

// Elements that never hold content, and elements closed implicitly by a sibling: mailparser leaves
// both out of its nesting count.
const HTML_VOID_ELEMENTS = new Set(
  'area base br col embed hr img input link meta param source track wbr'.split(' '),
);
const HTML_IMPLIED_END_ELEMENTS = new Set(
  'p li dt dd option optgroup tr td th thead tbody tfoot rt rp'.split(' '),
);
const isTagNameChar = (code: number): boolean =>
  (code >= 0x61 && code <= 0x7a) ||
  (code >= 0x41 && code <= 0x5a) ||
  (code >= 0x30 && code <= 0x39) ||
  code === 0x2d ||
  code === 0x3a ||
  code === 0x5f;

/**
 * mailparser's test for html it will not convert: elements nested deeper than `maxDepth`, counted in one
 * pass as htmlparser2 builds them (a start tag opens, an end tag closes down to the nearest open element
 * of that name, comments are skipped).
 */
export function exceedsHtmlNestingDepth(html: string, maxDepth: number): boolean {
  // Each element opens with a `<`: with no more of them than maxDepth, none can be nested too deep.
  let tags = 0;
  for (let at = html.indexOf('<'); at >= 0 && tags <= maxDepth; at = html.indexOf('<', at + 1)) tags++;
  if (tags <= maxDepth) return false;
  const stack: string[] = [];
  const open = new Map<string, number>();
  const len = html.length;
  let i = html.indexOf('<');
  while (i >= 0) {
    let pos = i + 1;
    if (html.startsWith('!--', pos)) {
      const end = html.indexOf('-->', pos + 3);
      i = end < 0 ? -1 : html.indexOf('<', end + 3);
      continue;
    }
    const closing = html.charCodeAt(pos) === 0x2f;
    if (closing) pos++;
    const nameStart = pos;
    while (pos < len && isTagNameChar(html.charCodeAt(pos))) pos++;
    if (pos === nameStart) {
      i = html.indexOf('<', pos);
      continue;
    }
    const name = html.slice(nameStart, pos).toLowerCase();
    const end = html.indexOf('>', pos);
    if (end < 0) break;
    if (!HTML_VOID_ELEMENTS.has(name) && !HTML_IMPLIED_END_ELEMENTS.has(name)) {
      if (!closing) {
        stack.push(name);
        open.set(name, (open.get(name) ?? 0) + 1);
        if (stack.length > maxDepth) return true;
      } else if (open.get(name)) {
        let popped: string | undefined;
        do {
          popped = stack.pop()!;
          open.set(popped, open.get(popped)! - 1);
        } while (popped !== name);
      }
    }
    i = html.indexOf('<', end + 1);
  }
  return false;
}

/** A part in mailparser's tree, as its text walk reads it. */
interface MimeNode {
  readonly contentType?: string;
  readonly textContent?: string;
  readonly root?: boolean;
  readonly showMeta?: boolean;
  readonly headers: Map<string, unknown>;
  readonly children?: readonly MimeNode[];
}

/** What mailparser's text walk reads of the parser (its internals, not in its type declarations). */
interface ParserState {
  readonly tree: MimeNode;
  readonly hasText: boolean;
  readonly options: MailParserOptions;
  text: string | false;
}

interface TextContent {
  type: 'text';
  text?: string;
  html?: string;
  textAsHtml?: string;
  textConversionError?: Error;
}

/** The `Name: value` lines mailparser puts in the text for an attached message's headers. */
function metaText(node: MimeNode, options: MailParserOptions): string {
  const lines: string[] = [];
  for (const key of ['From', 'Subject', 'Date', 'To', 'Cc', 'Bcc']) {
    const raw = node.headers.get(key.toLowerCase());
    if (!node.headers.has(key.toLowerCase()) || !raw) continue;
    let value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    if (key === 'From' || key === 'To' || key === 'Cc' || key === 'Bcc')
      value = (value as { text: string }).text;
    else if (key === 'Date')
      value = options.formatDateString
        ? options.formatDateString(value as Date)
        : (value as Date).toUTCString();
    lines.push(`${key}: ${value}`);
  }
  return `\n${lines.join('\n')}\n`;
}

/**
 * The header fields decoded into a part's `headers`: those mailparser reads there (an attachment's
 * Content-ID, an attached message's From, Subject, Date, To, Cc and Bcc) and those parse reads of the
 * mail (its subject, From, To, Cc, date and Message-ID). Reply-To, In-Reply-To and References, which
 * simpleParser also copies onto the mail, nobody reads there, so they are not parsed into addresses and
 * ids. Every field stays in `headerLines`, raw, which is where parse (and the impersonation scanner's
 * Reply-To check) reads the header block from.
 */
export const DECODED_HEADERS: ReadonlySet<string> = new Set([
  'subject',
  'date',
  'from',
  'to',
  'cc',
  'bcc',
  'message-id',
  'content-id',
]);

// What MailParser's getAddressesHTML gives here until the field's html is read (see htmlWhenRead).
const LATER = '\u0000address html, made when read';

/** Puts a getter in place of an address field's html: it is made (each address he-encoded) when read. */
function htmlWhenRead(field: { value: EmailAddress[]; html: string }): void {
  if (field.html !== LATER) return;
  Object.defineProperty(field, 'html', {
    enumerable: true,
    configurable: true,
    get() {
      const html = MailParser.prototype.getAddressesHTML.call(undefined, field.value);
      Object.defineProperty(field, 'html', {
        value: html,
        enumerable: true,
        writable: true,
        configurable: true,
      });
      return html;
    },
  });
}

// The address fields among DECODED_HEADERS.
const ADDRESS_FIELDS = ['from', 'to', 'cc', 'bcc'];

/**
 * MailParser decoding only DECODED_HEADERS, whose text (unless options.skipHtmlToText) comes from the
 * html parts through `htmlToText`. It is made with skipHtmlToText, so mailparser's own pass leaves the
 * html parts' text empty and builds the html; the text is then read again the way mailparser reads it,
 * converting with `htmlToText`. An address field's html, which only the html heading of an attached
 * message reads, is made when read. It is made by newParser, never with `new`.
 */
class SegMailParser extends MailParser {
  declare readonly htmlText: boolean;
  declare readonly htmlToText: HtmlToText;

  processHeaders(lines: readonly { readonly key: string }[]): unknown {
    const decode = (MailParser.prototype as unknown as { processHeaders(lines: unknown): unknown })
      .processHeaders;
    const headers = decode.call(
      this,
      (lines ?? []).filter((line) => DECODED_HEADERS.has(line.key)),
    ) as Map<string, unknown>;
    for (const key of ADDRESS_FIELDS) {
      const value = headers.get(key) as Parameters<typeof htmlWhenRead>[0] | undefined;
      for (const field of Array.isArray(value) ? value : value ? [value] : []) htmlWhenRead(field);
    }
    return headers;
  }

  override getAddressesHTML(): string {
    return LATER;
  }

  getTextContent(): TextContent {
    const response = (
      MailParser.prototype as unknown as { getTextContent(): TextContent }
    ).getTextContent.call(this);
    if (!this.htmlText) return response;
    const { tree, hasText, options } = this as unknown as ParserState;
    const text: string[] = [];
    let error: Error | undefined;
    const walk = (alternative: boolean, node: MimeNode): void => {
      if (node.showMeta && hasText) text.push(metaText(node, options));
      const content = node.textContent;
      if (content) {
        const type = node.contentType;
        if (type === 'text/plain' || (type === 'message/delivery-status' && !options.keepDeliveryStatus)) {
          text.push(content);
        } else if (type === 'text/html' && ((!alternative && hasText) || (node.root && !hasText))) {
          let err: Error | undefined;
          if (content.length > (options.maxHtmlLengthToParse as number)) {
            err = new Error(`HTML too long for parsing ${content.length} bytes`);
          } else if (exceedsHtmlNestingDepth(content, MAX_HTML_NESTING_DEPTH)) {
            err = new Error(`HTML nested deeper than ${MAX_HTML_NESTING_DEPTH} levels`);
          } else {
            try {
              text.push(this.htmlToText(content));
            } catch (cause) {
              err = new Error('Failed to parse HTML', { cause });
            }
          }
          if (err) {
            text.push('');
            error ??= err;
          }
        }
      }
      const inAlternative = alternative || node.contentType === 'multipart/alternative';
      for (const child of node.children ?? []) walk(inAlternative, child);
    };
    walk(false, tree);
    if (text.length) {
      (this as unknown as ParserState).text = response.text = text.join('\n');
      this.textAsHtml = response.textAsHtml = text.map((part) => this.textToHtml(part)).join('<br/>\n');
    }
    if (error) response.textConversionError = error;
    return response;
  }
}

// The classes MailParser makes its splitter and its libmime helper from, read off one parser made the
// ordinary way: newParser makes its own of the same classes.
const model = new MailParser() as unknown as { splitter: object; libmime: object };
const SplitterOf = model.splitter.constructor as new (config: MailParserOptions) => Splitter;
const LibmimeOf = model.libmime.constructor as new (config: { Iconv?: unknown }) => ReaderState['libmime'];

// What createNode is given for the decoder stream it makes each leaf: the reading decodes bodies whole.
const unusedDecoder = (): { on(): unknown } => ({
  on() {
    return this;
  },
});

/**
 * libmime's decodeWords, which runs five regular expressions over every value it is given, returning a
 * value at once when none of them can match there: it has no encoded word (`=?`) and no join marker.
 */
export function decodeWordsWhenEncoded(libmime: { decodeWords(value: unknown): string }): void {
  const decodeWords = libmime.decodeWords;
  libmime.decodeWords = (value: unknown): string => {
    const text = (value || '').toString();
    return text.includes('=?') || text.includes(JOIN_MARKER) ? decodeWords.call(libmime, text) : text;
  };
}
// The marker libmime's decodeWords puts between encoded words it joins, and takes out wherever it is.
const JOIN_MARKER = '__\u0000JOIN\u0000__';

/**
 * A SegMailParser as MailParser's constructor leaves one, less the streams it wires up (a passthrough
 * piped into the splitter, listeners on both) that readMailParts does without: making them cost a
 * twentieth of the reading.
 */
function newParser(options: MailParserOptions, htmlToText: HtmlToText): SegMailParser {
  const config: MailParserOptions = { ...options, skipHtmlToText: true };
  const libmime = new LibmimeOf({ Iconv: config.Iconv });
  decodeWordsWhenEncoded(libmime as unknown as Parameters<typeof decodeWordsWhenEncoded>[0]);
  return Object.assign(Object.create(SegMailParser.prototype) as SegMailParser, {
    options: config,
    splitter: new SplitterOf(config),
    libmime,
    textTypes: ['text/plain', 'text/html', ...(config.keepDeliveryStatus ? [] : ['message/delivery-status'])],
    tree: false,
    curnode: false,
    headers: false,
    headerLines: false,
    hasHtml: false,
    hasText: false,
    text: false,
    html: false,
    textAsHtml: false,
    linkifyWork: 0,
    attachmentList: [],
    htmlText: !options.skipHtmlToText,
    htmlToText,
  });
}

/** A part as mailsplit's splitter reads its header block (mailsplit's MimeNode). */
interface SplitNode {
  readonly type: 'node';
  readonly root: boolean;
  readonly parentNode: SplitNode | false;
  readonly contentType: string | false;
  readonly encoding: string | false;
  readonly charset: string | false;
  readonly disposition: string | false;
  readonly filename: string | false;
  readonly flowed: boolean;
  readonly delSp: boolean;
  readonly messageNode?: boolean;
  readonly partNr: readonly (number | string)[] | false;
  readonly _parentBoundary: unknown;
}

/** What the splitter hands over: a part's header block read, a piece of a leaf's body, or other lines. */
type SplitItem = SplitNode | { readonly type: 'body' | 'data'; readonly value: Buffer };

/** mailsplit's splitter as MailParser holds it (its internals: split() below does what its write does). */
interface Splitter {
  readonly node: { readonly multipart: boolean | string };
  readonly state: number;
  readonly nodeCounter: number;
  readonly maxChildNodes: number;
  hasFailed: boolean;
  processLine(
    line: Buffer,
    final: boolean,
    next: (err?: Error | null, data?: SplitItem | false, flush?: boolean) => void,
  ): void;
  appendPendingLine(chunk: Buffer): void;
  enforcePendingLineLimit(): Error | null;
  _flush(done: (err?: Error | null) => void): void;
  push(item: SplitItem): boolean;
}

// The splitter's state while it reads a body (mailsplit's BODY).
const SPLITTER_BODY = 0x02;

/** A run of lines the splitter groups into one body or data item. */
type Group = { readonly type: 'none' | 'body' | 'data' | 'node'; value?: Buffer };

/** mailsplit's trimBodyLineEnd: the line end before a delimiter belongs to the delimiter, not to the body. */
function trimBodyLineEnd(group: Group, chunk: Buffer, start: number, end: number): number {
  const node = (group as { node?: { parentNode?: unknown } }).node;
  if (group.type !== 'body' || !node || !node.parentNode) return end;
  if (end > start && chunk[end - 1] === 0x0a) {
    end--;
    if (end > start && chunk[end - 1] === 0x0d) end--;
  }
  return end;
}

/**
 * What mailsplit's splitter does with one write of the whole message (MailParser writes it once), run
 * at once instead of 16 KB per event loop turn: each line goes through the splitter's processLine and
 * its items are grouped as its _transform groups them. Only a line that cannot change anything, a body
 * line that is no delimiter and continues the current group, is not handed over: the splitter would
 * make an item of it only for it to be merged into that group. Lines are found with indexOf, where the
 * splitter walks the bytes one by one. Throws what the splitter fails with.
 */
function split(splitter: Splitter, chunk: Buffer): void {
  const emit = (item: Group): void => {
    splitter.push(item as SplitItem);
  };
  // One write: nothing is pending from an earlier one, so the run starts at 0.
  let pos = 0;
  let i = 0;
  let group = { type: 'none' } as Group;
  let groupstart = 0;
  let groupend = 0;
  let failure: Error | undefined;
  const onLine = (err?: Error | null, data?: SplitItem | false, flush?: boolean): void => {
    if (err) {
      splitter.hasFailed = true;
      failure = err;
      return;
    }
    if (!data) return;
    const item = data as Group & { value?: Buffer };
    if (flush) {
      if (group.type !== 'none') {
        groupend = trimBodyLineEnd(group, chunk, groupstart, groupend);
        if (groupstart < groupend) {
          group.value = chunk.subarray(groupstart, groupend);
          if (groupend < i && 'value' in item) item.value = chunk.subarray(groupend, i);
        }
        emit(group);
        group = { type: 'none' } as Group;
        groupstart = groupend = i;
      }
      emit(item);
      groupend = i;
      return;
    }
    if (item.type === group.type) {
      groupend = i;
      return;
    }
    groupend = trimBodyLineEnd(group, chunk, groupstart, groupend);
    if (group.type !== 'none' && group.type !== 'node' && groupstart !== groupend) {
      group.value = chunk.subarray(groupstart, groupend);
      if (group.value.length) {
        emit(group);
        group = { type: 'none' } as Group;
      }
    }
    if (item.type === 'node') {
      emit(item);
      groupstart = i;
      groupend = i;
    } else {
      group = item;
      groupstart = groupend;
      groupend = i;
    }
  };
  while (i < chunk.length) {
    const nl = chunk.indexOf(0x0a, i);
    if (nl < 0) break;
    const start = pos;
    pos = i = nl + 1;
    if (
      splitter.state === SPLITTER_BODY &&
      splitter.nodeCounter <= splitter.maxChildNodes &&
      group.type === (splitter.node.multipart ? 'data' : 'body') &&
      !maybeDelimiter(chunk, start, i)
    ) {
      groupend = i;
      continue;
    }
    splitter.processLine(chunk.subarray(start, i), false, onLine);
    if (failure) throw failure;
  }
  pos = trimBodyLineEnd(group, chunk, groupstart, pos);
  if (group.type !== 'none' && group.type !== 'node' && pos > groupstart) {
    group.value = chunk.subarray(groupstart, pos);
    if (group.value.length) emit(group);
  }
  if (pos < chunk.length) splitter.appendPendingLine(chunk.subarray(pos));
  const pendingLineError = splitter.enforcePendingLineLimit();
  if (pendingLineError) {
    splitter.hasFailed = true;
    throw pendingLineError;
  }
}

/** Whether the splitter's checkBoundary could take the line for a delimiter: `--` after at most one line break. */
function maybeDelimiter(chunk: Buffer, start: number, end: number): boolean {
  if (end - start < 4) return false;
  let at = start;
  if (chunk[at] === 0x0d || chunk[at] === 0x0a) {
    at++;
    if (chunk[start] === 0x0d && chunk[at] === 0x0a) at++;
  }
  return chunk[at] === 0x2d && chunk[at + 1] === 0x2d;
}

/** A part in mailparser's tree as MailParser.createNode makes it. */
interface TreeNode extends MimeNode {
  readonly parent?: TreeNode;
  readonly disposition?: string;
  readonly isAttachment?: boolean;
  readonly charset?: string;
  textContent?: string;
  showMeta?: boolean;
}

/** The parser's own state and helpers the reading uses (mailparser's internals). */
interface ReaderState {
  readonly splitter: Splitter;
  readonly tree: TreeNode | false;
  readonly headerLines: unknown;
  readonly attachmentList: unknown[];
  readonly libmime: {
    detectMimeType(filename: string): string | false;
    decodeFlowed(input: string, delSp: boolean): string;
  };
  hasText: boolean;
  hasHtml: boolean;
  createNode(node: SplitNode): TreeNode;
  updateImageLinks(
    replace: (attachment: Attachment, done: (err: unknown, url: string) => void) => void,
    done: (err: unknown, html: string | false) => void,
  ): void;
}

type Attachment = Record<string, unknown> & { content: Buffer; contentType: string };

/** A leaf's body as it comes in, and what it becomes once the part ends. */
interface Leaf {
  readonly split: SplitNode;
  readonly node: TreeNode;
  readonly chunks: Buffer[];
  ended: boolean;
  attachment?: Attachment;
  text?: boolean;
}

// A charset name mailparser reads as UTF-8 without decoding (case and punctuation ignored).
const UTF8_NAMES = new Set(['ascii', 'usascii', 'utf8']);
// Not base64: what libbase64's decoder drops before decoding.
const NOT_BASE64_CHARS = /[^a-zA-Z0-9+/=]/g;

/**
 * libbase64's decoding of a body, less what is not base64 (libbase64's decoder drops it first). Node's
 * base64 reading skips such characters itself, save `-` and `_`, which it reads as base64url digits,
 * and stops at padding, where libbase64 reads on segment by segment: only a body with `-` or `_`, or
 * with base64 digits after an `=`, is stripped and handed to libbase64.
 */
export function decodeBase64Body(body: Buffer): Buffer {
  const text = body.toString('latin1');
  const pad = text.indexOf('=');
  if (body.includes(0x2d) || body.includes(0x5f) || (pad >= 0 && BASE64_DIGIT.test(text.slice(pad))))
    return libbase64.decode(text.replace(NOT_BASE64_CHARS, ''));
  return Buffer.from(text, 'base64');
}
const BASE64_DIGIT = /[a-zA-Z0-9+/]/;

/** A body with its transfer encoding undone, as mailsplit's decoder streams (libbase64, libqp) undo it. */
function transferDecoded(body: Buffer, encoding: string | false): Buffer {
  if (encoding === 'base64') return decodeBase64Body(body);
  if (encoding === 'quoted-printable') return body.length ? decodeQuotedPrintable(body) : body;
  return body;
}

// Single-byte charsets (ISO-8859-*, windows-125*): iconv-lite decodes them byte by byte through a table.
const SINGLE_BYTE = /^(?:iso[-_ ]?8859[-_ ]?(?:[1-9]|1[0-6])|windows-?125[0-8]|cp-?125[0-8]|latin-?1)$/i;
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, b) => b));
const LATIN1 = ALL_BYTES.toString('latin1');
// Per charset name: which bytes its table maps to the character latin1 gives them (all, ASCII or not both).
const latin1Keeps = new Map<string, 'all' | 'ascii' | 'not'>();

/** Which bytes a charset decodes as latin1 does: read off its decoding of all 256 once. */
function keptAsLatin1(charset: string): 'all' | 'ascii' | 'not' {
  let keeps = latin1Keeps.get(charset);
  if (keeps) return keeps;
  keeps = 'not';
  if (SINGLE_BYTE.test(charset)) {
    const table = decodeCharset(ALL_BYTES, charset);
    if (table === LATIN1) keeps = 'all';
    else if (table.length === 256 && table.startsWith(LATIN1.slice(0, 128))) keeps = 'ascii';
  }
  // Bounded: the names come from the mail.
  if (latin1Keeps.size < 100) latin1Keeps.set(charset, keeps);
  return keeps;
}

/**
 * A body's text in its charset, as mailparser's decoders give it: UTF-8 (and ASCII) as UTF-8, any other
 * through libmime's decode, the result read back as UTF-8 bytes (a lone surrogate becomes U+FFFD on the
 * way). A single-byte charset that keeps a body's bytes as latin1 does (ISO-8859-1 every byte, the
 * others ASCII) is read as latin1, without its table.
 */
export function decodeText(content: Buffer, charset: string): string {
  if (UTF8_NAMES.has(charset.toLowerCase().replace(/[^a-z0-9]+/g, ''))) return content.toString();
  const keeps = keptAsLatin1(charset);
  if (keeps === 'all' || (keeps === 'ascii' && isAscii(content))) return content.toString('latin1');
  const text = decodeCharset(content, charset || 'ascii');
  return /[\ud800-\udfff]/.test(text) ? Buffer.from(text).toString() : text;
}

const hexValue = (c: number): number =>
  c >= 0x30 && c <= 0x39
    ? c - 0x30
    : c >= 0x41 && c <= 0x46
      ? c - 0x37
      : c >= 0x61 && c <= 0x66
        ? c - 0x57
        : -1;

// hexValue of every byte, looked up in the decoder's loop.
const HEX_VALUES = Int8Array.from({ length: 256 }, (_, c) => hexValue(c));

const isBlank = (c: number | undefined): boolean => c === 0x20 || c === 0x09;

/**
 * libqp.decode's bytes, read on the body's bytes instead of a string of them (a third less work). libqp
 * takes three steps, each on what the one before left: the blanks ending a line or the body go, then
 * soft line breaks (= before LF, CRLF or the end), then =XX escapes (either case) are decoded; any
 * other = stays. Here the first runs only when a blank stands before a break (encoders write such a
 * blank as =20), and the other two run together in one pass, which reads an escape's two digits across
 * the soft breaks the second step would have taken out from between them.
 */
export function decodeQuotedPrintable(body: Uint8Array): Buffer {
  const input = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const out = Buffer.allocUnsafeSlow(input.length);
  // Most bodies have no blank before a break: the pass that finds one undoes the escapes too, and is
  // taken again, on what the first step leaves, only when it did find one. Writing on `out` while
  // reading it is safe: no more is written than has been read.
  const k = unescapeQuotedPrintable(input, input.length, out);
  if (k >= 0) return out.subarray(0, k);
  const n = dropBlanksBeforeBreaks(input, out);
  return out.subarray(0, unescapeQuotedPrintable(out, n, out));
}

/** libqp's first step: each run of blanks before a line break (CR or LF) or the end goes. Its length. */
function dropBlanksBeforeBreaks(input: Uint8Array, out: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < input.length; ) {
    const c = input[i]!;
    if (!isBlank(c)) {
      out[n++] = c;
      i++;
      continue;
    }
    let j = i + 1;
    while (j < input.length && isBlank(input[j])) j++;
    // A run of blanks is kept unless a line break or the end follows it.
    if (j < input.length && input[j] !== 0x0a && input[j] !== 0x0d) while (i < j) out[n++] = input[i++]!;
    i = j;
  }
  return n;
}

/** The length of the soft line break at p in src's first n bytes (= before LF, CRLF or the end), 0 when none. */
function softBreakAt(src: Uint8Array, n: number, p: number): number {
  if (src[p] !== 0x3d) return 0;
  if (p + 1 === n) return 1;
  if (src[p + 1] === 0x0a) return 2;
  return src[p + 1] === 0x0d && p + 2 < n && src[p + 2] === 0x0a ? 3 : 0;
}

/** Where the first byte the soft breaks leave is, at or after p (n when none is left). */
function keptFrom(src: Uint8Array, n: number, p: number): number {
  for (let skip = softBreakAt(src, n, p); skip > 0; skip = softBreakAt(src, n, p)) p += skip;
  return p;
}

/**
 * libqp's other two steps in one pass over src's first n bytes, written to out: the length written,
 * or -1 when a blank stands before a line break (CR or LF) or at the end (the first step has work).
 */
function unescapeQuotedPrintable(src: Uint8Array, n: number, out: Uint8Array): number {
  if (n > 0 && isBlank(src[n - 1])) return -1;
  let k = 0;
  for (let i = 0; i < n; i++) {
    const c = src[i]!;
    if (c !== 0x3d) {
      if (c <= 0x0d && (c === 0x0a || c === 0x0d) && i > 0 && isBlank(src[i - 1])) return -1;
      out[k++] = c;
      continue;
    }
    // Most escapes are = and two hex digits: no soft break can stand between them.
    if (i + 2 < n) {
      const hi = HEX_VALUES[src[i + 1]!]!;
      const lo = HEX_VALUES[src[i + 2]!]!;
      if ((hi | lo) >= 0) {
        out[k++] = hi * 16 + lo;
        i += 2;
        continue;
      }
    }
    const skip = softBreakAt(src, n, i);
    if (skip > 0) {
      i += skip - 1;
      continue;
    }
    const first = keptFrom(src, n, i + 1);
    const hi = first < n ? hexValue(src[first]!) : -1;
    if (hi >= 0) {
      const second = keptFrom(src, n, first + 1);
      const lo = second < n ? hexValue(src[second]!) : -1;
      if (lo >= 0) {
        out[k++] = hi * 16 + lo;
        i = second;
        continue;
      }
    }
    out[k++] = c;
  }
  return k;
}

/**
 * simpleParser(bytes, options), with the html turned into text by `htmlToText` (unless
 * `options.skipHtmlToText`) and only DECODED_HEADERS in `headers`. Rejects where simpleParser rejects.
 * mailparser's own pieces do the reading: mailsplit's splitter cuts the message into parts, MailParser
 * builds the tree and decodes the headers, libbase64, libqp and libmime decode the bodies, and the text
 * walk is mailparser's. What is left out is the stream plumbing between them (a stream per part and
 * per decoder, an event loop turn per piece of each part), about half of mailparser's cost: the
 * splitter's items are taken as it makes them, and each body is decoded whole when its part ends,
 * which mailparser's decoders promise gives the same bytes however the body is cut. The mail has every
 * field simpleParser gives but `otp` (mailparser does not export its reader; nothing here reads it).
 */
export function readMailParts(
  bytes: Buffer,
  options: MailParserOptions,
  htmlToText: HtmlToText,
): Promise<ParsedMail> {
  return new Promise((resolve, reject) => {
    const parser = newParser(options, htmlToText);
    const state = parser as unknown as ReaderState;
    const mail: Record<string, unknown> & { attachments: Attachment[] } = { attachments: [] };
    let failed = false;
    const fail = (err: unknown): void => {
      if (failed) return;
      failed = true;
      reject(err);
    };
    // The leaf mailparser writes bodies to: the part made last (MailParser's curnode).
    let leaf: Leaf | undefined;

    /** The part ended: its body decoded, as an attachment's content or as the part's text. */
    const end = (part: Leaf): void => {
      part.ended = true;
      if (!part.attachment && !part.text) return;
      const body = transferDecoded(Buffer.concat(part.chunks), part.split.encoding);
      if (part.attachment) {
        const attachment = part.attachment;
        attachment.content = body;
        attachment['size'] = body.length;
        // The checksum mailparser gives every attachment, made only when read: nothing here reads it.
        Object.defineProperty(attachment, 'checksum', {
          enumerable: true,
          configurable: true,
          get() {
            const checksum = createHash('md5').update(body).digest('hex');
            Object.defineProperty(attachment, 'checksum', {
              value: checksum,
              enumerable: true,
              writable: true,
            });
            return checksum;
          },
        });
        return;
      }
      let content = body;
      if (part.split.flowed && content.length)
        content = Buffer.from(
          state.libmime.decodeFlowed(content.toString('binary'), part.split.delSp),
          'binary',
        );
      const text = decodeText(content, part.node.charset || 'utf-8');
      // CRLF line ends become LF, as mailparser has it (/\r?\n/g): a text without a CR is left as it is.
      part.node.textContent = text.includes('\r') ? text.replaceAll('\r\n', '\n') : text;
    };

    /** One item of the splitter, taken as MailParser's processChunk takes it. */
    const take = (data: SplitItem): void => {
      if (data.type !== 'node') {
        // A body piece goes to the part made last until a delimiter line ('data') ends that part.
        if (!leaf || leaf.ended) return;
        if (data.type === 'body') leaf.chunks.push(data.value);
        else end(leaf);
        return;
      }
      // createNode makes each leaf a decoder stream, which the reading never writes to.
      (data as { getDecoder?: () => unknown }).getDecoder = unusedDecoder;
      const node = state.createNode(data);
      leaf = node.disposition ? { split: data, node, chunks: [], ended: false } : undefined;
      if (node === state.tree) {
        mail['headers'] = node.headers;
        mail['headerLines'] = state.headerLines;
      }
      if (data.contentType === 'message/rfc822' && data.messageNode) return;
      if (data.parentNode && data.parentNode.contentType === 'message/rfc822') node.showMeta = true;
      if (node.isAttachment) {
        const contentType =
          node.contentType === 'application/octet-stream' && data.filename
            ? state.libmime.detectMimeType(data.filename) || 'application/octet-stream'
            : (node.contentType as string);
        const partId = data._parentBoundary
          ? (data.partNr || []).filter((nr) => typeof nr === 'number').join('.') || null
          : null;
        const attachment: Attachment = {
          type: 'attachment',
          content: Buffer.alloc(0),
          contentType,
          partId,
          release: null,
        };
        if (data.disposition) attachment['contentDisposition'] = data.disposition;
        if (data.filename) attachment['filename'] = data.filename;
        if (node.headers.has('content-id')) {
          const contentId = ([] as unknown[]).concat(node.headers.get('content-id') || []).shift() as string;
          attachment['contentId'] = contentId;
          attachment['cid'] = contentId.trim().replace(/^<|>$/g, '').trim();
          // Related to the text (an embedded image) when under a multipart/related.
          for (let parent = node.parent; parent; parent = parent.parent)
            if (parent.contentType === 'multipart/related') attachment['related'] = true;
        }
        attachment['headers'] = node.headers;
        state.attachmentList.push(attachment);
        mail.attachments.push(attachment);
        if (leaf) leaf.attachment = attachment;
      } else if (node.disposition === 'inline') {
        if (node.contentType === 'text/plain') state.hasText = true;
        else if (node.contentType === 'text/html') state.hasHtml = true;
        else if (node.contentType === 'message/delivery-status' && !options.keepDeliveryStatus)
          state.hasText = true;
        if (leaf) leaf.text = true;
      }
    };

    const finish = (): void => {
      if (leaf && !leaf.ended) end(leaf);
      const response = parser.getTextContent();
      for (const key of ['text', 'html', 'textAsHtml', 'textConversionError'] as const)
        if (key in response) mail[key] = response[key];
      const headers = mail['headers'] as Map<string, unknown> | undefined;
      for (const [key, name] of SIMPLE_KEYS) if (headers?.has(key)) mail[name] = headers.get(key);
      // Without html there is nothing to link: mailparser would say so (html false) an event loop turn later.
      if (!(parser as unknown as { html: unknown }).html) {
        mail['html'] = false;
        resolve(mail as unknown as ParsedMail);
        return;
      }
      state.updateImageLinks(
        (attachment, done) =>
          done(false, `data:${attachment.contentType};base64,${attachment.content.toString('base64')}`),
        (err, html) => {
          if (err) return fail(err);
          mail['html'] = html;
          resolve(mail as unknown as ParsedMail);
        },
      );
    };

    const splitter = state.splitter;
    splitter.push = (item) => {
      if (!failed) {
        try {
          take(item);
        } catch (err) {
          fail(err);
        }
      }
      return true;
    };
    const flushed = (err?: Error | null): void => {
      if (err) fail(err);
      else if (!failed) {
        try {
          finish();
        } catch (cause) {
          fail(cause);
        }
      }
    };
    try {
      // MailParser hands the splitter nothing for an empty message, only the end.
      if (bytes.length) split(splitter, bytes);
    } catch (err) {
      fail(err);
      return;
    }
    if (!failed) splitter._flush(flushed);
  });
}

// The headers simpleParser copies onto the mail, with the camel-cased name it gives each.
const SIMPLE_KEYS = [
  ['subject', 'subject'],
  ['references', 'references'],
  ['date', 'date'],
  ['to', 'to'],
  ['from', 'from'],
  ['cc', 'cc'],
  ['bcc', 'bcc'],
  ['message-id', 'messageId'],
  ['in-reply-to', 'inReplyTo'],
  ['reply-to', 'replyTo'],
] as const;
