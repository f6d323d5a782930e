// Parses a raw message once into a ParsedMessage, with size, part, depth and body limits applied.
// mailparser stays behind this one function. It never throws: damage becomes `problems`, limits
// become `truncated`. It does not judge the message; scanners do.

import type { AddressObject, ParsedMail } from 'mailparser';
import { type Limits, LimitsSchema } from '../config/schema.ts';
import {
  type HtmlReading,
  type HtmlStats,
  MAX_HTML_DEPTH,
  MAX_LINK_HOSTS,
  MAX_LINKS,
  readHtml,
} from './html-reading.ts';
import { readMailParts } from './mail-reading.ts';
import { inspectMimeStructure, type MimeStructure } from './mime-structure.ts';
import type { ParsedAttachment, ParsedLink, ParsedMessage } from './types.ts';

export { MAX_LINK_HOSTS, MAX_LINKS } from './html-reading.ts';

/** The limits the config schema defaults to (40 MB, 500 parts, depth 20, 2 M body chars). */
export const DEFAULT_LIMITS: Limits = LimitsSchema.parse({});

// Header lines kept: real messages have under a hundred; a flood of headers is itself a problem.
const MAX_HEADER_LINES = 1000;

/** The problem kinds parse reports, as the prefix of each `problems` entry ("kind: detail"). */
export type ProblemKind = 'oversized' | 'truncated' | 'malformed' | 'unreadable' | 'unparseable';

/** The kind of one `problems` entry. */
export function problemKind(problem: string): ProblemKind | undefined {
  const kind = problem.slice(0, problem.indexOf(':'));
  return (['oversized', 'truncated', 'malformed', 'unreadable', 'unparseable'] as const).find(
    (k) => k === kind,
  );
}

/** Parses `raw` within `limits`. Never throws. */
export async function parseMessage(raw: Uint8Array, limits: Limits): Promise<ParsedMessage> {
  try {
    return await parseWithin(raw, limits);
  } catch (err) {
    // Last line of defence: a bug or a library surprise still yields a verdict, never a retry loop.
    return emptyMessage(
      raw.byteLength,
      [`unparseable: ${String((err as Error)?.message ?? err)}`.slice(0, 300)],
      false,
    );
  }
}

/** A message as mailparser reads it: its bytes after the size and structure cuts, and the mail. */
export interface MailReading {
  /** The bytes read: at most maxMessageBytes, cut where a part or depth limit was crossed. */
  readonly bytes: Buffer;
  /** `bytes` as latin1 text (one char per byte), made once for the structure walk and the lenient pass. */
  readonly latin1: string;
  readonly oversized: boolean;
  readonly structure: MimeStructure;
  /** Rejects when mailparser throws. Its `headers` hold only the fields decoded (DECODED_HEADERS). */
  readonly mail: Promise<ParsedMail>;
  /** True when the html parts were turned into text (parse needs it; attachment extraction does not). */
  readonly htmlText: boolean;
  /** The html parts read for their text, each read once for its links and counts too. */
  readonly htmlReadings: readonly { readonly html: string; readonly reading: HtmlReading }[];
}

type ReadLimits = Pick<Limits, 'maxMessageBytes' | 'maxParts' | 'maxDepth' | 'maxBodyChars'>;

// One mailparser run per message per process: parse and the attachment extraction (extract.ts) read the
// same buffer, so extraction after parse (`seg scan`, `seg serve`) gets parse's reading instead of
// parsing again. Its attachments are the same either way; only the text conversions differ.
const readings = new WeakMap<Uint8Array, { readonly limits: ReadLimits; readonly reading: MailReading }>();
const sameLimits = (a: ReadLimits, b: ReadLimits): boolean =>
  a.maxMessageBytes === b.maxMessageBytes &&
  a.maxParts === b.maxParts &&
  a.maxDepth === b.maxDepth &&
  a.maxBodyChars === b.maxBodyChars;

/**
 * mailparser's reading of `raw` within `limits`, made once per buffer: with the html turned into text
 * (`htmlText`, what parse needs) or without (cheaper; a reading with it serves too).
 */
export function readMail(raw: Uint8Array, limits: ReadLimits, htmlText: boolean): MailReading {
  const hit = readings.get(raw);
  if (hit && sameLimits(hit.limits, limits) && (hit.reading.htmlText || !htmlText)) return hit.reading;
  let bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const oversized = bytes.length > limits.maxMessageBytes;
  if (oversized) bytes = bytes.subarray(0, limits.maxMessageBytes);
  // latin1 maps each byte to one char, so offsets in the string are byte offsets.
  let latin1 = bytes.toString('latin1');
  const structure = inspectMimeStructure(latin1, limits);
  if (structure.cutAt !== undefined) {
    bytes = bytes.subarray(0, structure.cutAt);
    latin1 = latin1.slice(0, structure.cutAt);
  }
  const htmlReadings: { html: string; reading: HtmlReading }[] = [];
  // An html part's text comes from the same pass that finds its links (html-reading.ts).
  const htmlToText = (html: string): string => {
    const reading = readHtml(html, true);
    htmlReadings.push({ html, reading });
    return reading.text;
  };
  const mail = (async () =>
    readMailParts(
      bytes,
      {
        skipImageLinks: true,
        skipTextToHtml: true,
        skipTextLinks: true,
        skipHtmlToText: !htmlText,
        // Beyond the body cap we would cut the text anyway.
        maxHtmlLengthToParse: limits.maxBodyChars,
      },
      htmlToText,
    ))();
  // Its readers await it; this only keeps a rejection nobody has awaited yet from being "unhandled".
  mail.catch(() => {});
  const reading = { bytes, latin1, oversized, structure, mail, htmlText, htmlReadings };
  readings.set(raw, { limits: { ...limits }, reading });
  return reading;
}

async function parseWithin(raw: Uint8Array, limits: Limits): Promise<ParsedMessage> {
  const problems: string[] = [];
  let truncated = false;
  const sizeBytes = raw.byteLength;
  if (Math.min(sizeBytes, limits.maxMessageBytes) === 0)
    return emptyMessage(sizeBytes, ['malformed: empty message'], sizeBytes > limits.maxMessageBytes);

  const reading = readMail(raw, limits, true);
  if (reading.oversized) {
    truncated = true;
    problems.push(`oversized: ${sizeBytes} bytes, scanned the first ${limits.maxMessageBytes}`);
  }
  const { structure } = reading;
  problems.push(...structure.problems);
  if (structure.cutAt !== undefined) truncated = true;

  let mail: ParsedMail;
  try {
    mail = await reading.mail;
  } catch (err) {
    problems.push(`unparseable: ${(err as Error)?.message ?? String(err)}`.slice(0, 300));
    return emptyMessage(sizeBytes, problems, truncated);
  }

  const cap = (s: string | false | undefined): string => {
    const v = typeof s === 'string' ? s : '';
    if (v.length <= limits.maxBodyChars) return v;
    truncated = true;
    if (!problems.some((p) => p.startsWith('truncated: body'))) {
      problems.push(`truncated: body longer than ${limits.maxBodyChars} chars`);
    }
    return v.slice(0, limits.maxBodyChars);
  };
  const html = cap(mail.html);
  // An html-only message's html is the part its text was read from: that pass found the links too.
  // A message with html and no text of its own gets its html's text here: mailparser turns html into
  // text only at the message's root or beside a text part, so an html part inside multipart/mixed or
  // /related (most newsletters and phishing kits) gave no text, no scanner read its words, and
  // CONTENT_IMAGE_ONLY called it images. One too long to be read for text (maxHtmlLengthToParse) is
  // read here from its first maxBodyChars, so padding the html past the cap cannot blank the text.
  const textFromHtml = !mail.text && html.length > 0;
  const read = reading.htmlReadings.find((r) => r.html === html)?.reading ?? readHtml(html, textFromHtml);
  const text = cap(textFromHtml ? read.text : mail.text);
  const links = linksOf(read, text);
  if (links.truncated) {
    truncated = true;
    problems.push(`truncated: more than ${MAX_LINKS + MAX_LINK_HOSTS} links (${links.total} seen)`);
  }
  if (links.tooDeep) problems.push(`malformed: html nested deeper than ${MAX_HTML_DEPTH} elements`);
  const attachedLinks = htmlAttachmentLinks(mail, limits, MAX_LINKS + MAX_LINK_HOSTS - links.links.length);

  const headers: (readonly [string, string])[] = [];
  for (const h of (mail.headerLines ?? []).slice(0, MAX_HEADER_LINES)) {
    const colon = h.line.indexOf(':');
    const value = colon >= 0 ? h.line.slice(colon + 1) : '';
    // Unfolded: every line break goes, CRLF or LF (a lone CR stays), as /\r?\n/g has it. Most fields
    // are one line: nothing to take out.
    const unfolded = value.includes('\n') ? value.replaceAll('\r\n', '').replaceAll('\n', '') : value;
    headers.push([h.key.toLowerCase(), unfolded.trim()]);
  }

  const attachments: ParsedAttachment[] = (mail.attachments ?? []).map((a) => ({
    ...(a.filename ? { filename: a.filename } : {}),
    contentType: a.contentType ?? 'application/octet-stream',
    size: a.size ?? 0,
  }));

  const fromAddr = firstAddress(mail.from);
  const date = mail.date && !Number.isNaN(mail.date.getTime()) ? mail.date.toISOString() : undefined;
  return {
    ...(fromAddr ? { from: fromAddr } : {}),
    to: [...addresses(mail.to), ...addresses(mail.cc)],
    subject: typeof mail.subject === 'string' ? mail.subject.slice(0, 2000) : '',
    ...(mail.messageId ? { messageId: mail.messageId } : {}),
    ...(date ? { date } : {}),
    headers,
    text,
    html,
    links: attachedLinks.length ? [...links.links, ...attachedLinks] : links.links,
    linkCount: links.total,
    ...(html ? { htmlStats: links.stats } : {}),
    attachments,
    sizeBytes,
    truncated,
    problems,
    htmlOnly: structure.htmlOnly && html.length > 0,
  };
}

// HTML attachments read for links: phishing kits ship the login page as an .html attachment. Bounded
// by count and by the body cap per attachment; the attachment scanner judges the files themselves.
const MAX_HTML_ATTACHMENTS = 5;

/** Links in text/html attachments (and .htm/.html files), each marked with its file name. */
export function htmlAttachmentLinks(
  mail: Pick<ParsedMail, 'attachments'>,
  limits: Limits,
  room: number,
): ParsedLink[] {
  const out: ParsedLink[] = [];
  const html = (mail.attachments ?? [])
    .filter((a) => a.contentType === 'text/html' || /\.s?html?$/i.test(a.filename ?? ''))
    .slice(0, MAX_HTML_ATTACHMENTS);
  for (const a of html) {
    if (out.length >= room || !a.content) break;
    const source = a.content.subarray(0, limits.maxBodyChars).toString('utf8');
    const name = (a.filename ?? 'attachment.html').slice(0, 100);
    for (const link of extractLinks(source, '').links.slice(0, room - out.length))
      out.push({ ...link, attachment: name });
  }
  return out;
}

function emptyMessage(sizeBytes: number, problems: string[], truncated: boolean): ParsedMessage {
  return {
    to: [],
    subject: '',
    headers: [],
    text: '',
    html: '',
    links: [],
    attachments: [],
    sizeBytes,
    truncated,
    problems,
  };
}

function firstAddress(obj: AddressObject | AddressObject[] | undefined): ParsedMessage['from'] {
  const first = (Array.isArray(obj) ? obj[0] : obj)?.value?.[0];
  if (!first) return undefined;
  return {
    ...(first.address ? { address: first.address.toLowerCase() } : {}),
    ...(first.name ? { name: first.name } : {}),
  };
}

function addresses(obj: AddressObject | AddressObject[] | undefined): string[] {
  const out: string[] = [];
  for (const o of Array.isArray(obj) ? obj : obj ? [obj] : []) {
    for (const v of o.value ?? []) {
      if (v.address) out.push(v.address.toLowerCase());
      for (const g of v.group ?? []) if (g.address) out.push(g.address.toLowerCase());
    }
  }
  return out.slice(0, 500);
}

/**
 * Every URL in html (a/area href, img/script/iframe src, form action, meta refresh, CSS url(),
 * background attributes) and bare URLs in text, each with where it came from. The first MAX_LINKS are
 * kept in full; after that one link per new host, up to MAX_LINK_HOSTS more. `total` counts every link seen.
 */
export function extractLinks(
  html: string,
  text: string,
): { links: ParsedLink[]; truncated: boolean; total: number; tooDeep: boolean; stats: HtmlStats } {
  return linksOf(readHtml(html, false), text);
}

/** The links of one html reading with the bare URLs of `text` added (the reading is left as it was). */
function linksOf(reading: HtmlReading, text: string) {
  const list = reading.links.copy();
  list.addTextUrls(text);
  const { links, truncated, total } = list;
  return { links, truncated, total, tooDeep: reading.tooDeep, stats: reading.stats };
}
