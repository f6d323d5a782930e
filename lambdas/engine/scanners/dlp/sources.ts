// Where DLP looks: the subject, the text body, the text of the HTML body and the text inside
// attachments (txt, csv, html, eml, docx/xlsx/pptx, PDF), in that order, until the character budget
// is spent. Attachment bodies are not in ParsedMessage (it carries sizes only), so they are read
// from the raw message here, only when an attachment of a searchable type is present.

import { Parser } from 'htmlparser2';
import { type Attachment, simpleParser } from 'mailparser';
import type { DlpConfig } from '../../../config/schema.ts';
import type { ParsedAttachment, ScanInput } from '../../types.ts';
import { officeText } from './office-text.ts';
import { pdfText } from './pdf-text.ts';

/** One searchable text and where it came from (`subject`, `text`, `html`, `attachment a.pdf`). */
export interface TextSource {
  readonly where: string;
  readonly text: string;
}

export interface Sources {
  readonly sources: readonly TextSource[];
  /** What was left out for the limits, e.g. `attachment big.pdf over 10485760 bytes`. Empty when nothing. */
  readonly unscanned: readonly string[];
}

type Kind = 'text' | 'html' | 'office' | 'pdf';

const OFFICE_TYPES = /officedocument\.(?:wordprocessingml|spreadsheetml|presentationml)/;

/** How to read an attachment, by its declared type or its extension; undefined: no text we can read. */
export function attachmentKind(a: Pick<ParsedAttachment, 'filename' | 'contentType'>): Kind | undefined {
  const type = a.contentType.toLowerCase();
  const ext = (a.filename ?? '').toLowerCase().match(/\.([a-z0-9]{1,5})$/)?.[1] ?? '';
  if (type === 'text/html' || ext === 'html' || ext === 'htm') return 'html';
  if (OFFICE_TYPES.test(type) || ['docx', 'xlsx', 'pptx', 'docm', 'xlsm', 'pptm'].includes(ext))
    return 'office';
  if (type === 'application/pdf' || ext === 'pdf') return 'pdf';
  if (
    type.startsWith('text/') ||
    type === 'message/rfc822' ||
    ['txt', 'csv', 'tsv', 'eml', 'log', 'json', 'xml'].includes(ext)
  )
    return 'text';
  return undefined;
}

/** The visible text of HTML: character data outside script and style, block ends as line breaks. */
export function htmlText(html: string): string {
  const out: string[] = [];
  let skip = 0;
  const parser = new Parser(
    {
      onopentag(name) {
        if (name === 'script' || name === 'style') skip++;
      },
      ontext(t) {
        if (!skip) out.push(t);
      },
      onclosetag(name) {
        if (name === 'script' || name === 'style') skip = Math.max(0, skip - 1);
        else if (/^(?:p|div|br|tr|li|h\d|td|th|table)$/.test(name))
          out.push(name === 'td' || name === 'th' ? ' ' : '\n');
      },
    },
    { decodeEntities: true, lowerCaseTags: true },
  );
  parser.write(html);
  parser.end();
  return out.join('');
}

/** Collects the texts to search within `dlp.maxScanChars` and `dlp.maxAttachmentBytes`. */
export async function collectSources(input: ScanInput, dlp: DlpConfig): Promise<Sources> {
  const sources: TextSource[] = [];
  const unscanned: string[] = [];
  let budget = dlp.maxScanChars;
  const add = (where: string, text: string): void => {
    if (!text) return;
    if (text.length > budget) {
      unscanned.push(`${where} beyond ${dlp.maxScanChars} chars`);
      text = text.slice(0, budget);
    }
    budget -= text.length;
    if (text) sources.push({ where, text });
  };
  const { parsed } = input;
  if (parsed.truncated) unscanned.push('message cut at a parse limit');
  add('subject', parsed.subject);
  add('text', parsed.text);
  // When the text was derived from the HTML, its text is already searched.
  if (parsed.html && !parsed.htmlOnly) {
    const fromHtml = htmlText(parsed.html);
    if (fromHtml.replace(/\s+/g, ' ').trim() !== parsed.text.replace(/\s+/g, ' ').trim())
      add('html', fromHtml);
  }

  const readable = parsed.attachments.filter((a) => attachmentKind(a));
  if (readable.length === 0 || budget <= 0) return { sources, unscanned };
  let attachments: Attachment[];
  try {
    attachments = (await simpleParser(Buffer.from(input.raw), { skipHtmlToText: true, skipTextToHtml: true }))
      .attachments;
  } catch {
    unscanned.push('attachments unreadable');
    return { sources, unscanned };
  }
  for (const a of attachments) {
    const meta = {
      contentType: a.contentType ?? 'application/octet-stream',
      ...(a.filename ? { filename: a.filename } : {}),
    };
    const kind = attachmentKind(meta);
    if (!kind) continue;
    const where = `attachment ${(a.filename ?? a.contentType).slice(0, 100)}`;
    if (budget <= 0) {
      unscanned.push(`${where}: DLP budget spent`);
      continue;
    }
    if (a.content.length > dlp.maxAttachmentBytes) {
      unscanned.push(`${where} over ${dlp.maxAttachmentBytes} bytes`);
      continue;
    }
    if (kind === 'text') add(where, a.content.toString('utf8'));
    else if (kind === 'html') add(where, htmlText(a.content.toString('utf8')));
    else {
      const extracted = kind === 'pdf' ? pdfText(a.content) : await officeText(a.content);
      if (extracted.truncated) unscanned.push(`${where} only partly readable`);
      add(where, extracted.text);
    }
  }
  return { sources, unscanned };
}
