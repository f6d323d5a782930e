// buildOutgoingMessage: the gateway's headers go on top, outside X-SEG-* headers are neutralised,
// the Subject is tagged for `tag`, and every body byte stays the original's.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { splitMessage } from '../../lambdas/handlers/header-block.ts';
import { buildOutgoingMessage, type VerdictHeaders } from '../../lambdas/handlers/outgoing-message.ts';

const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`../fixtures/handlers/${name}`, import.meta.url)));

/** The bytes after the header block (the blank line and the body). */
function bodyBytes(raw: Uint8Array): Buffer {
  const text = Buffer.from(raw).toString('latin1');
  const crlf = text.indexOf('\r\n\r\n');
  const lf = text.indexOf('\n\n');
  const at = crlf !== -1 && (lf === -1 || crlf < lf) ? crlf + 2 : lf + 1;
  return Buffer.from(raw).subarray(at);
}

const deliver: VerdictHeaders = { action: 'deliver', score: 1.5, symbols: ['DKIM_NONE', 'SPF_NONE'] };
const header = (raw: Uint8Array, name: string) =>
  splitMessage(raw)
    .fields.filter((f) => f.name.toLowerCase() === name.toLowerCase())
    .map((f) => f.text.slice(f.name.length + 1).trim());

describe('buildOutgoingMessage', () => {
  it('prepends the verdict headers and keeps body bytes identical', () => {
    const raw = fixture('plain-crlf.eml');
    const out = buildOutgoingMessage(raw, { ...deliver, authResults: 'example.com; spf=none; dkim=none' });
    const text = Buffer.from(out).toString('latin1');
    expect(
      text.startsWith('X-SEG-Verdict: deliver\r\nX-SEG-Score: 1.50\r\nX-SEG-Symbols: DKIM_NONE SPF_NONE\r\n'),
    ).toBe(true);
    expect(header(out, 'Authentication-Results')).toEqual(['example.com; spf=none; dkim=none']);
    expect(bodyBytes(out).equals(bodyBytes(raw))).toBe(true);
    expect(
      Buffer.from(out)
        .subarray(out.byteLength - raw.byteLength)
        .equals(Buffer.from(raw)),
    ).toBe(true);
  });

  it('renames X-SEG-* headers from outside and an Authentication-Results claiming our authserv-id', () => {
    const raw = fixture('forged-seg-headers.eml');
    const out = buildOutgoingMessage(raw, { ...deliver, authservId: 'example.com' });
    expect(header(out, 'X-SEG-Verdict')).toEqual(['deliver']);
    expect(header(out, 'X-SEG-Untrusted-Verdict')).toEqual(['deliver']);
    expect(header(out, 'X-SEG-Untrusted-Score')).toEqual(['-100']);
    expect(header(out, 'X-SEG-Score')).toEqual(['1.50']);
    expect(header(out, 'X-SEG-Untrusted-Authentication-Results')).toHaveLength(1);
    expect(header(out, 'Authentication-Results')).toEqual([]);
    expect(bodyBytes(out).equals(bodyBytes(raw))).toBe(true);
  });

  it('prefixes the subject tag only for action tag, changing only the Subject line', () => {
    const raw = fixture('plain-crlf.eml');
    const tagged = buildOutgoingMessage(raw, { ...deliver, action: 'tag', subjectTag: '[SPAM]' });
    expect(header(tagged, 'Subject')).toEqual(['[SPAM] Quarterly numbers']);
    const original = splitMessage(raw).fields.filter((f) => f.name !== 'Subject');
    const kept = splitMessage(tagged).fields.filter(
      (f) => !f.name.startsWith('X-SEG-') && f.name !== 'Subject',
    );
    expect(kept).toEqual(original);
    expect(bodyBytes(tagged).equals(bodyBytes(raw))).toBe(true);

    const delivered = buildOutgoingMessage(raw, { ...deliver, subjectTag: '[SPAM]' });
    expect(header(delivered, 'Subject')).toEqual(['Quarterly numbers']);
  });

  it('tags a folded subject without touching its continuation line', () => {
    const raw = fixture('forged-seg-headers.eml');
    const out = buildOutgoingMessage(raw, { ...deliver, action: 'tag', subjectTag: '[SPAM]' });
    expect(Buffer.from(out).toString('latin1')).toContain('Subject: [SPAM] \r\n =?utf-8?q?Urgent_wire?=\r\n');
  });

  it('does not tag a subject twice', () => {
    const once = buildOutgoingMessage(fixture('plain-crlf.eml'), {
      ...deliver,
      action: 'tag',
      subjectTag: '[SPAM]',
    });
    const twice = buildOutgoingMessage(once, { ...deliver, action: 'tag', subjectTag: '[SPAM]' });
    expect(header(twice, 'Subject')).toEqual(['[SPAM] Quarterly numbers']);
  });

  it('keeps LF line endings and 8-bit body bytes of an LF-only message', () => {
    const raw = fixture('lf-only-binary-body.eml');
    const out = buildOutgoingMessage(raw, deliver);
    const text = Buffer.from(out).toString('latin1');
    expect(text.startsWith('X-SEG-Verdict: deliver\nX-SEG-Score: 1.50\n')).toBe(true);
    expect(bodyBytes(out).equals(bodyBytes(raw))).toBe(true);
  });

  it('folds a long symbol list and strips line breaks from header values', () => {
    const symbols = Array.from({ length: 30 }, (_, i) => `SYMBOL_NUMBER_${i}`);
    const out = buildOutgoingMessage(fixture('plain-crlf.eml'), {
      ...deliver,
      symbols,
      authResults: 'example.com;\r\nInjected: yes',
    });
    const lines = Buffer.from(out).toString('latin1').split('\r\n');
    expect(lines.every((l) => l.length <= 998)).toBe(true);
    expect(header(out, 'X-SEG-Symbols')[0]?.replace(/\s+/g, ' ')).toBe(symbols.join(' '));
    expect(header(out, 'Injected')).toEqual([]);
  });
});
