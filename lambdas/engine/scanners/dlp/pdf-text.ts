// Text of a PDF where it is plainly there: the string operands of text-showing operators (Tj, TJ,
// ', ") in content streams that are uncompressed or FlateDecode. Fonts with custom encodings and
// scanned images yield nothing; that is "not extractable", not an error. Inflation is capped.

import { inflateSync } from 'node:zlib';
import type { ExtractedText } from './office-text.ts';

// A content stream of a page is rarely over a few MB inflated; 20 MB per stream and 50 MB in all
// bound a deflate bomb. 10,000 streams bounds the walk over a hostile file.
const MAX_STREAM_BYTES = 20 * 1024 * 1024;
const MAX_TOTAL_BYTES = 50 * 1024 * 1024;
const MAX_STREAMS = 10_000;

const STREAM = /<<((?:[^<>]|<<[^<>]*>>|<[0-9A-Fa-f\s]*>){0,4000})>>\s*stream\r?\n/g;
// A literal string (balanced parentheses one level deep, backslash escapes) or an array of them.
const SHOW =
  /(\((?:\\[\s\S]|[^\\()]|\((?:\\[\s\S]|[^\\()])*\))*\))\s*(?:Tj|'|")|\[((?:[^\]\\]|\\[\s\S])*)\]\s*TJ/g;
const LITERAL = /\((?:\\[\s\S]|[^\\()]|\((?:\\[\s\S]|[^\\()])*\))*\)/g;

function unescapeLiteral(lit: string): string {
  return lit.slice(1, -1).replace(/\\(\d{1,3}|[\s\S])/g, (_, e: string) => {
    if (/^\d/.test(e)) return String.fromCharCode(Number.parseInt(e, 8) & 0xff);
    return { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', '\n': '', '\r': '' }[e] ?? e;
  });
}

function showText(content: string): string {
  const out: string[] = [];
  for (const m of content.matchAll(SHOW)) {
    if (m[1]) out.push(unescapeLiteral(m[1]));
    else out.push((m[2]?.match(LITERAL) ?? []).map(unescapeLiteral).join(''));
  }
  return out.join(' ');
}

/** The extractable text of the PDF in `bytes`. Never throws. */
export function pdfText(bytes: Buffer): ExtractedText {
  const source = bytes.toString('latin1');
  const texts: string[] = [];
  let total = 0;
  let truncated = false;
  let streams = 0;
  for (const m of source.matchAll(STREAM)) {
    if (++streams > MAX_STREAMS) {
      truncated = true;
      break;
    }
    const start = m.index + m[0].length;
    const end = source.indexOf('endstream', start);
    if (end < 0) break;
    const dict = m[1] ?? '';
    let data = bytes.subarray(start, end);
    if (/\/FlateDecode/.test(dict)) {
      if (/\/Filter\s*\[[^\]]*\/\w+[^\]]*\/\w+/.test(dict)) continue; // chained filters: not plain text
      try {
        data = inflateSync(data, { maxOutputLength: MAX_STREAM_BYTES });
      } catch {
        truncated = true;
        continue;
      }
    } else if (/\/Filter/.test(dict)) continue; // images and other encodings carry no text we can read
    total += data.length;
    if (total > MAX_TOTAL_BYTES) {
      truncated = true;
      break;
    }
    const text = showText(data.toString('latin1'));
    if (text) texts.push(text);
  }
  return { text: texts.join('\n'), truncated };
}
