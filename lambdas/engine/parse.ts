// Parses a raw message once into a ParsedMessage, with size, part, depth and body limits applied.
// mailparser stays behind this one function. It never throws: damage becomes `problems`, limits
// become `truncated`. It does not judge the message; scanners do.

import { Parser } from 'htmlparser2';
import type { AddressObject, ParsedMail } from 'mailparser';
import { type Limits, LimitsSchema } from '../config/schema.ts';
import { readMailParts } from './mail-reading.ts';
import { inspectMimeStructure, type MimeStructure } from './mime-structure.ts';
import type { LinkSource, ParsedAttachment, ParsedLink, ParsedMessage } from './types.ts';

/** The limits the config schema defaults to (40 MB, 500 parts, depth 20, 2 M body chars). */
export const DEFAULT_LIMITS: Limits = LimitsSchema.parse({});

// Links kept in full (each with its anchor text): legitimate newsletters carry a few hundred at most.
export const MAX_LINKS = 1000;
// Beyond MAX_LINKS a link is kept only when its host (with its source and claimed text domain) is new,
// up to this many more: padding with 1,000 harmless links cannot push a phishing link out of sight,
// and a million distinct hosts still cost bounded work (issue 7: limits never make mail look cleaner).
export const MAX_LINK_HOSTS = 5000;
// htmlparser2 keeps open elements in an array it unshifts, so nesting costs depth squared: past this
// depth (real mail nests tables a few dozen deep) the parser is restarted on the rest of the html.
const MAX_HTML_DEPTH = 1000;
const HTML_CHUNK_CHARS = 16_384;
// Style text read for CSS url(): real stylesheets are a few KB to a few hundred KB.
const MAX_CSS_CHARS = 200_000;
// Header lines kept: real messages have under a hundred; a flood of headers is itself a problem.
const MAX_HEADER_LINES = 1000;
// Anchor text kept per link: enough to show a domain, bounded so one giant anchor cannot bloat results.
const MAX_ANCHOR_TEXT = 300;
const MAX_HREF = 2048;

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
  readonly oversized: boolean;
  readonly structure: MimeStructure;
  /** Rejects when mailparser throws. Its `headers` hold only the fields decoded (DECODED_HEADERS). */
  readonly mail: Promise<ParsedMail>;
  /** True when mailparser turned html into text (parse needs it; attachment extraction does not). */
  readonly htmlText: boolean;
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
  const structure = inspectMimeStructure(bytes.toString('latin1'), limits);
  if (structure.cutAt !== undefined) bytes = bytes.subarray(0, structure.cutAt);
  const mail = (async () =>
    readMailParts(bytes, {
      skipImageLinks: true,
      skipTextToHtml: true,
      skipTextLinks: true,
      skipHtmlToText: !htmlText,
      // html-to-text on huge html is slow; beyond the body cap we would cut the text anyway.
      maxHtmlLengthToParse: limits.maxBodyChars,
    }))();
  // Its readers await it; this only keeps a rejection nobody has awaited yet from being "unhandled".
  mail.catch(() => {});
  const reading = { bytes, oversized, structure, mail, htmlText };
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
  const text = cap(mail.text);
  const html = cap(mail.html);

  const links = extractLinks(html, text);
  if (links.truncated) {
    truncated = true;
    problems.push(`truncated: more than ${MAX_LINKS + MAX_LINK_HOSTS} links (${links.total} seen)`);
  }
  if (links.tooDeep) problems.push(`malformed: html nested deeper than ${MAX_HTML_DEPTH} elements`);
  const attachedLinks = htmlAttachmentLinks(mail, limits, MAX_LINKS + MAX_LINK_HOSTS - links.links.length);

  const headers: (readonly [string, string])[] = [];
  for (const h of (mail.headerLines ?? []).slice(0, MAX_HEADER_LINES)) {
    const colon = h.line.indexOf(':');
    headers.push([
      h.key.toLowerCase(),
      (colon >= 0 ? h.line.slice(colon + 1) : '').replace(/\r?\n/g, '').trim(),
    ]);
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

// Bare URLs in text. Bounded: no nested quantifiers, one character class per run, length-capped.
const TEXT_URL = /\bhttps?:\/\/[^\s<>"'`{}|\\^\][]{1,2048}/gi;
// CSS url(...) values in style attributes and <style> blocks; one bounded character class.
const CSS_URL = /url\(\s*['"]?([^'")\s]{1,2048})/gi;
// <meta http-equiv="refresh" content="0; url=...">.
const REFRESH_URL = /url\s*=\s*['"]?([^'"\s]{1,2048})/i;
// The authority of an absolute URL, for deduplication by host: no backtracking beyond one class.
const AUTHORITY = /^([a-z][a-z0-9+.-]{0,31}:)?(?:\/\/([^/?#\\]{0,512}))?/i;

/** Where a link was found. */
const SRC_ATTRS: Record<string, { attr: string; source: LinkSource }> = {
  img: { attr: 'src', source: 'img' },
  script: { attr: 'src', source: 'script' },
  iframe: { attr: 'src', source: 'iframe' },
  frame: { attr: 'src', source: 'iframe' },
  embed: { attr: 'src', source: 'iframe' },
  object: { attr: 'data', source: 'iframe' },
  form: { attr: 'action', source: 'form' },
};

/** The host a link points to (lowercase, no userinfo or port), or its scheme for non-network URLs. */
export function linkHost(href: string): string {
  const m = AUTHORITY.exec(href);
  if (!m) return '';
  // No authority (mailto:, data:, a relative path): the scheme, or nothing, stands in for the host.
  if (m[2] === undefined) return (m[1] ?? '').toLowerCase();
  const authority = m[2].slice(m[2].lastIndexOf('@') + 1);
  return authority.replace(/:\d*$/, '').toLowerCase();
}

// Inline styles that hide what they style. Read on at most STYLE_CHARS of a style attribute.
const HIDING =
  /(?:^|[;\s"'])(?:display\s*:\s*none|visibility\s*:\s*hidden|opacity\s*:\s*0(?:\.0+)?\s*(?:;|$)|font-size\s*:\s*(?:0|1)(?:\.\d+)?\s*(?:px|pt|em|%)?\s*(?:;|$|!))/i;
const COLLAPSED = /(?:^|[;\s])(?:max-)?height\s*:\s*0/i;
const OVERFLOW_HIDDEN = /overflow\s*:\s*hidden/i;
const STYLE_COLOR = /(?:^|[;\s"'])color\s*:\s*([^;!"']{1,40})/i;
const STYLE_BG = /background(?:-color)?\s*:\s*([^;!"']{1,60})/i;
const STYLE_CHARS = 1000;
const NAMED_COLORS: Record<string, string> = { white: '#ffffff', black: '#000000', red: '#ff0000' };
const NO_TEXT_ELEMENTS = new Set(['style', 'script', 'title', 'head', 'noscript']);

/** A CSS color as #rrggbb (white, #fff, rgb(255,255,255) -> #ffffff), or undefined for anything else. */
export function cssColor(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const v = value.trim().toLowerCase();
  const hex = /#([0-9a-f]{6}|[0-9a-f]{3})\b/.exec(v)?.[1];
  if (hex) return `#${hex.length === 3 ? [...hex].map((c) => c + c).join('') : hex}`;
  const rgb = /rgba?\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})/.exec(v);
  if (rgb)
    return `#${rgb
      .slice(1, 4)
      .map((n) => Number(n).toString(16).padStart(2, '0'))
      .join('')}`;
  return NAMED_COLORS[/^[a-z]+/.exec(v)?.[0] ?? ''];
}

/** What the html shows and hides, counted in the same pass as its links. */
export interface HtmlStats {
  /** Non-space characters of text a reader sees. */
  readonly visibleChars: number;
  /** Non-space characters hidden by display:none, visibility:hidden, zero opacity, 0-1px fonts, collapsed boxes or text colored as its background. */
  readonly hiddenChars: number;
  readonly images: number;
  /** The start of the hidden text, for evidence. */
  readonly hiddenSample?: string;
}

interface Frame {
  readonly hidden: boolean;
  readonly color: string | undefined;
  readonly bg: string;
}

interface LinkDraft {
  href: string;
  text: string;
  source: LinkSource;
  password?: boolean;
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
  const links: ParsedLink[] = [];
  const seenHref = new Set<string>();
  const seenKey = new Set<string>();
  let truncated = false;
  let tooDeep = false;
  let total = 0;
  let visibleChars = 0;
  let hiddenChars = 0;
  let images = 0;
  let hiddenSample = '';
  const add = (d: LinkDraft): void => {
    const href = d.href.trim().slice(0, MAX_HREF);
    if (!href) return;
    total++;
    const text = d.text.replace(/\s+/g, ' ').trim().slice(0, MAX_ANCHOR_TEXT);
    const key = `${d.source}|${linkHost(href)}|${text.includes('.') && !text.includes(' ') ? text.toLowerCase() : ''}|${d.password ? 'p' : ''}`;
    if (links.length >= MAX_LINKS) {
      if (seenKey.has(key)) return;
      if (links.length >= MAX_LINKS + MAX_LINK_HOSTS) {
        truncated = true;
        return;
      }
    } else if (seenHref.has(href) && seenKey.has(key)) {
      return;
    }
    seenKey.add(key);
    seenHref.add(href);
    links.push({
      href,
      source: d.source,
      ...(text ? { text } : {}),
      ...(d.password ? { password: true } : {}),
    });
  };

  if (html) {
    let open: LinkDraft | undefined;
    let form: LinkDraft | undefined;
    let inStyle = false;
    let cssChars = 0;
    const css = (s: string | undefined, source: LinkSource): void => {
      if (!s || cssChars >= MAX_CSS_CHARS) return;
      const chunk = s.slice(0, MAX_CSS_CHARS - cssChars);
      cssChars += chunk.length;
      if (!chunk.includes('url(')) return;
      for (const m of chunk.matchAll(CSS_URL)) add({ href: m[1]!, text: '', source });
    };
    let depth = 0;
    // One frame per open element (htmlparser2 closes void elements at once, so pushes and pops pair up).
    const root: Frame = { hidden: false, color: undefined, bg: '#ffffff' };
    let frames: Frame[] = [];
    let noText = 0;
    const newParser = (): Parser =>
      new Parser(
        {
          onopentag(name, attrs) {
            depth++;
            const parent = frames.at(-1) ?? root;
            const style = attrs['style']?.slice(0, STYLE_CHARS) ?? '';
            const hides =
              style !== '' && (HIDING.test(style) || (COLLAPSED.test(style) && OVERFLOW_HIDDEN.test(style)));
            frames.push({
              hidden: parent.hidden || hides || attrs['hidden'] !== undefined,
              color: cssColor(STYLE_COLOR.exec(style)?.[1] ?? attrs['color']) ?? parent.color,
              bg: cssColor(STYLE_BG.exec(style)?.[1] ?? attrs['bgcolor']) ?? parent.bg,
            });
            if (NO_TEXT_ELEMENTS.has(name)) noText++;
            if (name === 'img') images++;
            css(attrs['style'], 'css');
            if (attrs['background']) add({ href: attrs['background'], text: '', source: 'img' });
            if (name === 'a' || name === 'area') {
              if (open) add(open);
              const href = attrs['href']?.trim();
              open = href ? { href: href.slice(0, MAX_HREF), text: '', source: name } : undefined;
              if (open && name === 'area') {
                add(open);
                open = undefined;
              }
              return;
            }
            if (name === 'style') inStyle = true;
            else if (name === 'input' && form && attrs['type']?.toLowerCase() === 'password')
              form.password = true;
            else if (name === 'meta' && attrs['http-equiv']?.toLowerCase() === 'refresh') {
              const url = REFRESH_URL.exec(attrs['content'] ?? '')?.[1];
              if (url) add({ href: url, text: '', source: 'meta' });
            } else {
              const src = SRC_ATTRS[name];
              const value = src ? attrs[src.attr]?.trim() : undefined;
              if (src && value) {
                if (src.source === 'form') {
                  if (form) add(form);
                  form = { href: value, text: '', source: 'form' };
                } else add({ href: value, text: '', source: src.source });
              }
            }
          },
          ontext(t) {
            if (noText === 0) {
              const chars = t.replace(/\s+/g, '').length;
              const top = frames.at(-1) ?? root;
              if (top.hidden || (top.color !== undefined && top.color === top.bg)) {
                hiddenChars += chars;
                if (chars && hiddenSample.length < 80) hiddenSample += `${t.trim()} `;
              } else visibleChars += chars;
            }
            if (inStyle) css(t, 'css');
            else if (open && open.text.length < MAX_ANCHOR_TEXT) open.text += t;
          },
          onclosetag(name) {
            depth--;
            frames.pop();
            if (NO_TEXT_ELEMENTS.has(name) && noText > 0) noText--;
            if (name === 'a' && open) {
              add(open);
              open = undefined;
            } else if (name === 'form' && form) {
              add(form);
              form = undefined;
            } else if (name === 'style') inStyle = false;
          },
        },
        { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
      );
    let parser = newParser();
    for (let at = 0; at < html.length; at += HTML_CHUNK_CHARS) {
      parser.write(html.slice(at, at + HTML_CHUNK_CHARS));
      if (depth > MAX_HTML_DEPTH) {
        // Too deep: drop the open elements and read on with a fresh parser (links are still found).
        tooDeep = true;
        parser.end();
        depth = 0;
        frames = [];
        noText = 0;
        parser = newParser();
      }
    }
    parser.end();
    if (open) add(open);
    if (form) add(form);
  }

  for (const m of text.matchAll(TEXT_URL)) {
    const href = m[0].replace(/[.,;:!?)>]+$/, '');
    if (!seenHref.has(href)) add({ href, text: '', source: 'text' });
    if (truncated) break;
  }
  const stats: HtmlStats = {
    visibleChars,
    hiddenChars,
    images,
    ...(hiddenSample ? { hiddenSample: hiddenSample.trim().slice(0, 80) } : {}),
  };
  return { links, truncated, total, tooDeep, stats };
}
