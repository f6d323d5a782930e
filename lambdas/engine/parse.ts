// Parses a raw message once into a ParsedMessage, with size, part, depth and body limits applied.
// mailparser stays behind this one function. It never throws: damage becomes `problems`, limits
// become `truncated`. It does not judge the message; scanners do.

import { Parser } from 'htmlparser2';
import { type AddressObject, type ParsedMail, simpleParser } from 'mailparser';
import { type Limits, LimitsSchema } from '../config/schema.ts';
import { inspectMimeStructure } from './mime-structure.ts';
import type { ParsedAttachment, ParsedLink, ParsedMessage } from './types.ts';

/** The limits the config schema defaults to (40 MB, 500 parts, depth 20, 2 M body chars). */
export const DEFAULT_LIMITS: Limits = LimitsSchema.parse({});

// Links beyond this many are dropped: legitimate newsletters carry a few hundred at most, and every
// URL check is per link, so 1000 bounds the URL scanner's work on a hostile message.
export const MAX_LINKS = 1000;
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

async function parseWithin(raw: Uint8Array, limits: Limits): Promise<ParsedMessage> {
  const problems: string[] = [];
  let truncated = false;
  let bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const sizeBytes = bytes.length;

  if (bytes.length > limits.maxMessageBytes) {
    bytes = bytes.subarray(0, limits.maxMessageBytes);
    truncated = true;
    problems.push(`oversized: ${sizeBytes} bytes, scanned the first ${limits.maxMessageBytes}`);
  }
  if (bytes.length === 0) {
    return emptyMessage(sizeBytes, ['malformed: empty message'], truncated);
  }

  // latin1 maps each byte to one char, so offsets in the string are byte offsets.
  const structure = inspectMimeStructure(bytes.toString('latin1'), limits);
  problems.push(...structure.problems);
  if (structure.cutAt !== undefined) {
    bytes = bytes.subarray(0, structure.cutAt);
    truncated = true;
  }

  let mail: ParsedMail;
  try {
    mail = await simpleParser(bytes, {
      skipImageLinks: true,
      skipTextToHtml: true,
      skipTextLinks: true,
      // html-to-text on huge html is slow; beyond the body cap we would cut the text anyway.
      maxHtmlLengthToParse: limits.maxBodyChars,
    });
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
  if (links.truncated) truncated = true;

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
    links: links.links,
    attachments,
    sizeBytes,
    truncated,
    problems,
    htmlOnly: structure.htmlOnly && html.length > 0,
  };
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

/** hrefs with anchor text from html (via htmlparser2), then bare URLs from text; at most MAX_LINKS. */
export function extractLinks(html: string, text: string): { links: ParsedLink[]; truncated: boolean } {
  const links: ParsedLink[] = [];
  const seen = new Set<string>();
  let truncated = false;
  const add = (link: ParsedLink): void => {
    if (links.length >= MAX_LINKS) {
      truncated = true;
      return;
    }
    links.push(link);
    seen.add(link.href);
  };

  if (html) {
    let open: { href: string; text: string } | undefined;
    const parser = new Parser(
      {
        onopentag(name, attrs) {
          if (name !== 'a' && name !== 'area') return;
          if (open) add(finish(open));
          const href = attrs['href']?.trim();
          open = href ? { href: href.slice(0, MAX_HREF), text: '' } : undefined;
          if (open && name === 'area') {
            add(finish(open));
            open = undefined;
          }
        },
        ontext(t) {
          if (open && open.text.length < MAX_ANCHOR_TEXT) open.text += t;
        },
        onclosetag(name) {
          if (name === 'a' && open) {
            add(finish(open));
            open = undefined;
          }
        },
      },
      { decodeEntities: true, lowerCaseTags: true },
    );
    parser.write(html);
    parser.end();
    if (open) add(finish(open));
  }

  for (const m of text.matchAll(TEXT_URL)) {
    const href = m[0].replace(/[.,;:!?)>]+$/, '');
    if (!seen.has(href)) add({ href });
    if (truncated) break;
  }
  return { links, truncated };
}

function finish(open: { href: string; text: string }): ParsedLink {
  const text = open.text.replace(/\s+/g, ' ').trim().slice(0, MAX_ANCHOR_TEXT);
  return text ? { href: open.href, text } : { href: open.href };
}
