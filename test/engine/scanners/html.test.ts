import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { html, ZERO_WIDTH } from '../../../lambdas/engine/scanners/html.ts';
import type { ScanInput } from '../../../lambdas/engine/types.ts';
import { ctxFrom, eml, fixture, inputFrom } from '../helpers.ts';

const symbolsOf = async (raw: string | Buffer) =>
  (await html.scan(await inputFrom(raw), ctxFrom())).map((f) => f.symbol);
const page = (body: string) =>
  eml({ From: 'a@elsewhere.example', Subject: 's', 'Content-Type': 'text/html' }, body);

describe('html scanner', () => {
  it('emits CONTENT_HIDDEN_BLOCK for display:none and white-on-white text', async () => {
    const input = await inputFrom(fixture('hidden-text.eml'));
    expect(input.parsed.htmlStats?.hiddenChars).toBeGreaterThan(600);
    const [finding] = await html.scan(input, ctxFrom());
    expect(finding?.symbol).toBe('CONTENT_HIDDEN_BLOCK');
    expect(finding?.evidence).toContain('winter sale cheap watches');
  });

  it('counts text colored as its background as hidden, and as visible on another background', async () => {
    const words = 'filler words to hide from the reader '.repeat(10);
    expect(await symbolsOf(page(`<p>Hi</p><p style="color:white">${words}</p>`))).toEqual([
      'CONTENT_HIDDEN_BLOCK',
    ]);
    const darkBox = `<table bgcolor="#000000"><tr><td style="color:#fff">${words}</td></tr></table>`;
    expect(await symbolsOf(page(darkBox))).toEqual([]);
  });

  it('leaves a newsletter preheader alone', async () => {
    const body = `<div style="display:none;max-height:0;overflow:hidden">Our spring catalogue is here</div><p>${'Spring news and offers from the shop. '.repeat(20)}</p>`;
    expect(await symbolsOf(page(body))).toEqual([]);
  });

  it('emits CONTENT_ZERO_WIDTH when invisible characters split words', async () => {
    const raw = eml(
      { From: 'a@elsewhere.example', Subject: 'V\u200Biagra' },
      'che\u200Bap p\u00ADills o\u200Crder',
    );
    expect(await symbolsOf(raw)).toEqual(['CONTENT_ZERO_WIDTH']);
  });

  it('finds words split by invisible characters exactly as the pattern over subject and text does', async () => {
    const piece = fc.constantFrom(
      'a',
      'é',
      '7',
      ' ',
      '\n',
      '\u200B',
      '\u200D',
      '\u2060',
      '\uFEFF',
      '\u00AD',
      '\u200E',
    );
    const text = fc.array(piece, { maxLength: 40 }).map((p) => p.join(''));
    await fc.assert(
      fc.asyncProperty(text, text, async (subject, body) => {
        const input = { parsed: { subject, text: body } } as unknown as ScanInput;
        const splits = `${subject}\n${body}`.match(ZERO_WIDTH);
        const expected = splits && splits.length >= 3 ? ['CONTENT_ZERO_WIDTH'] : [];
        expect((await html.scan(input, ctxFrom())).map((f) => f.symbol)).toEqual(expected);
      }),
      { numRuns: 3000 },
    );
  });
});
