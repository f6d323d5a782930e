// mailparser's simpleParser(), with two costs taken out. The html parts become text through the
// converter the caller gives: mailparser calls html-to-text for each part, a DOM and a selector tree
// built anew each time, where parse reads each html part once for its text and its links together
// (html-reading.ts). And only the header fields something reads are decoded into `headers`
// (DECODED_HEADERS): mailparser decoded every field of every part, parsing each address list and List-*
// field into objects nobody used, about a third of its reading. The walk that makes the text is
// mailparser's own: the same parts converted, the same limits, the same joins; every other result but
// `headers` is mailparser's, untouched (test/engine/mail-reading.test.ts holds both to simpleParser's,
// giving it html-to-text as the converter).

import type { Readable } from 'node:stream';
import {
  type AttachmentStream,
  MailParser,
  type MailParserOptions,
  type MessageText,
  type ParsedMail,
} from 'mailparser';

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

/**
 * MailParser decoding only DECODED_HEADERS, whose text (unless options.skipHtmlToText) comes from the
 * html parts through `htmlToText`. It is created with skipHtmlToText, so mailparser's own pass leaves
 * the html parts' text empty and builds the html; the text is then read again the way mailparser reads
 * it, converting with `htmlToText`.
 */
class SegMailParser extends MailParser {
  private readonly htmlText: boolean;
  private readonly htmlToText: HtmlToText;

  constructor(options: MailParserOptions, htmlToText: HtmlToText) {
    super({ ...options, skipHtmlToText: true });
    this.htmlText = !options.skipHtmlToText;
    this.htmlToText = htmlToText;
  }

  processHeaders(lines: readonly { readonly key: string }[]): unknown {
    const decode = (MailParser.prototype as unknown as { processHeaders(lines: unknown): unknown })
      .processHeaders;
    return decode.call(
      this,
      (lines ?? []).filter((line) => DECODED_HEADERS.has(line.key)),
    );
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

/**
 * simpleParser(bytes, options), with the html turned into text by `htmlToText` (unless
 * `options.skipHtmlToText`) and only DECODED_HEADERS in `headers`. Rejects where simpleParser rejects.
 */
export function readMailParts(
  bytes: Buffer,
  options: MailParserOptions,
  htmlToText: HtmlToText,
): Promise<ParsedMail> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (err: unknown, mail?: ParsedMail): void => {
      if (settled) return;
      settled = true;
      if (err) reject(err);
      else resolve(mail!);
    };
    const mail: Record<string, unknown> & { attachments: unknown[] } = { attachments: [] };
    const parser = new SegMailParser(options, htmlToText);
    parser.on('error', (err) => settle(err));
    parser.on('headers', (headers) => {
      mail['headers'] = headers;
      mail['headerLines'] = parser.headerLines;
      if (parser.otp) mail['otp'] = parser.otp;
    });
    let reading = false;
    const reader = (): void => {
      reading = true;
      const data = parser.read() as ReadItem | null;
      if (data === null) {
        reading = false;
        return;
      }
      if (data.type === 'text') {
        for (const key of Object.keys(data))
          if (['text', 'html', 'textAsHtml', 'textConversionError'].includes(key))
            mail[key] = (data as unknown as Record<string, unknown>)[key];
      }
      if (data.type === 'attachment') {
        const attachment = data;
        mail.attachments.push(attachment);
        const stream = attachment.content as Readable;
        const chunks: Buffer[] = [];
        let length = 0;
        stream.on('readable', () => {
          for (
            let chunk = stream.read() as Buffer | null;
            chunk !== null;
            chunk = stream.read() as Buffer | null
          ) {
            chunks.push(chunk);
            length += chunk.length;
          }
        });
        stream.on('end', () => {
          (attachment as unknown as { content: Buffer }).content = Buffer.concat(chunks, length);
          attachment.release?.();
          reader();
        });
      } else reader();
    };
    parser.on('readable', () => {
      if (!reading) reader();
    });
    parser.on('end', () => {
      const headers = mail['headers'] as Map<string, unknown> | undefined;
      for (const [key, name] of SIMPLE_KEYS) if (headers?.has(key)) mail[name] = headers.get(key);
      parser.updateImageLinks(
        (attachment, done) =>
          done(
            false,
            `data:${attachment.contentType};base64,${(attachment.content as unknown as Buffer).toString('base64')}`,
          ),
        (err, html) => {
          if (err) return settle(err);
          mail['html'] = html;
          settle(null, mail as unknown as ParsedMail);
        },
      );
    });
    parser.end(bytes);
  });
}

type ReadItem = AttachmentStream | MessageText;

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
