// phraseText gives what lowercasing and /\s+/g -> ' ' give, for text of every kind of whitespace.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { phraseText } from '../../lambdas/engine/phrase-text.ts';

describe('phraseText', () => {
  // Spaces, the other whitespace /\s/ knows (tab, line breaks, no-break, Unicode spaces, BOM), one
  // character it does not (NEL), and letters of both cases.
  const text = fc
    .array(
      fc.constantFrom(
        ' ',
        '\t',
        '\n',
        '\r',
        '\v',
        '\u00a0',
        '\u2028',
        '\u3000',
        '\ufeff',
        '\u0085',
        'a',
        'B',
      ),
      {
        maxLength: 40,
      },
    )
    .map((chars) => chars.join(''));

  it('lowercases and makes each run of whitespace one space, as /\\s+/g does', () => {
    fc.assert(
      fc.property(text, (s) => {
        expect(phraseText(s)).toBe(s.toLowerCase().replace(/\s+/g, ' '));
      }),
      { numRuns: 5000 },
    );
  });

  it('keeps single spaces and replaces lone tabs and line breaks', () => {
    expect(phraseText('Wire  the\tFunds\r\ntoday now')).toBe('wire the funds today now');
  });
});
