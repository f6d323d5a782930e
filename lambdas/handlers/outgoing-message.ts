// Builds the bytes the gateway relays: its own headers prepended to the original message. Only the
// header block may change (outside X-SEG-* fields renamed, the Subject tagged for action `tag`);
// every body byte is the original's. Pure: no I/O.

import { authservIdOf, fieldValue, type RawField, splitMessage } from '../contracts/header-block.ts';
import type { Action } from '../engine/types.ts';

/** What the gateway states about a message in its headers. */
export interface VerdictHeaders {
  readonly action: Action;
  readonly score: number;
  readonly symbols: readonly string[];
  /** Authentication-Results value (without the field name); omitted when undefined. */
  readonly authResults?: string;
  /** The authserv-id in our Authentication-Results: outside fields claiming it are neutralised. */
  readonly authservId?: string;
  /** Prefixed to the Subject when the action is `tag`. */
  readonly subjectTag?: string;
  /** Extra fields the caller adds, e.g. X-SEG-Released. Names must start with X-SEG-. */
  readonly extra?: readonly (readonly [string, string])[];
}

const UNTRUSTED_PREFIX = 'X-SEG-Untrusted-';
/** Header lines are kept under the RFC 5322 limit of 998 characters by folding at this width. */
const FOLD_WIDTH = 76;

/** The outgoing message: gateway headers, then the original header block (neutralised), then the body. */
export function buildOutgoingMessage(raw: Uint8Array, headers: VerdictHeaders): Uint8Array {
  const { fields, restOffset, eol } = splitMessage(raw);
  const ours: string[] = [
    field('X-SEG-Verdict', headers.action, eol),
    field('X-SEG-Score', formatScore(headers.score), eol),
    field('X-SEG-Symbols', headers.symbols.join(' ') || 'none', eol),
  ];
  if (headers.authResults) ours.push(field('Authentication-Results', headers.authResults, eol));
  for (const [name, value] of headers.extra ?? []) ours.push(field(name, value, eol));

  const tag = headers.action === 'tag' ? headers.subjectTag : undefined;
  let tagged = false;
  const kept = fields.map((f) => {
    let text = neutralise(f, headers.authservId);
    if (tag && !tagged && f.key === 'subject') {
      tagged = true;
      text = tagSubject(f, tag);
    }
    return text;
  });
  if (tag && !tagged) ours.push(field('Subject', tag, eol));
  const head = Buffer.from(ours.join('') + kept.join(''), 'latin1');
  // The body is copied as bytes, never decoded: it is the original's by construction.
  const body = raw.subarray(restOffset);
  const out = new Uint8Array(head.byteLength + body.byteLength);
  out.set(head, 0);
  out.set(body, head.byteLength);
  return out;
}

/**
 * Anyone can write X-SEG-Verdict: deliver into a message they send. Downstream mail rules trust our
 * X-SEG-* headers, so fields from outside are renamed (kept as evidence, never believed); the same
 * goes for an Authentication-Results field claiming our authserv-id (RFC 8601 section 5). Names are
 * matched as mailparser keys them (`X-SEG-Verdict : x` included); the rename prefixes the field's
 * first bytes, so whatever spacing or folding follows, the renamed key starts with x-seg-untrusted-.
 */
function neutralise(f: RawField, authservId: string | undefined): string {
  const untrusted = UNTRUSTED_PREFIX.toLowerCase();
  if (f.key.startsWith('x-seg-') && !f.key.startsWith(untrusted))
    return `${UNTRUSTED_PREFIX}${f.text.slice('X-SEG-'.length)}`;
  if (
    f.key === 'authentication-results' &&
    authservId !== undefined &&
    authservIdOf(fieldValue(f)) === authservIdOf(authservId)
  )
    return `${UNTRUSTED_PREFIX}${f.text}`;
  return f.text;
}

/** Inserts the tag after `Subject:` unless the subject already starts with it. */
function tagSubject(f: RawField, tag: string): string {
  const afterColon = f.text.slice(f.colon + 1);
  const leading = /^[ \t]*/.exec(afterColon)?.[0] ?? '';
  const value = afterColon.slice(leading.length);
  if (value.startsWith(tag)) return f.text;
  return `${f.text.slice(0, f.colon + 1)}${leading || ' '}${tag} ${value}`;
}

/** One header field, CR/LF stripped from the value, folded at spaces to stay within line limits. */
function field(name: string, value: string, eol: string): string {
  const words = value
    .replace(/[\r\n]+/g, ' ')
    .trim()
    .split(/ +/);
  const lines: string[] = [];
  let line = `${name}:`;
  for (const word of words) {
    if (line.length + 1 + word.length > FOLD_WIDTH && line.length > name.length + 1) {
      lines.push(line);
      line = `\t${word}`;
    } else {
      line += ` ${word}`;
    }
  }
  lines.push(line);
  return lines.map((l) => l + eol).join('');
}

function formatScore(score: number): string {
  return (Math.round(score * 100) / 100).toFixed(2);
}
