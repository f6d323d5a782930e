// readHtml: one pass over an html body for its text, its links and what it hides. The text keeps the
// words html-to-text gave (the classifier was trained on them), checked against html-to-text itself on
// generated html and on the corpus's html (../shared/corpus, skipped when absent).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { compile } from 'html-to-text';
import { Parser, type Tokenizer } from 'htmlparser2';
import { describe, expect, it } from 'vitest';
import { listFiles, stripMboxLine } from '../../bin/commands/corpus-files.ts';
import { words } from '../../lambdas/engine/classifier/features.ts';
import {
  MAX_HTML_DEPTH,
  MAX_LINK_HOSTS,
  MAX_LINKS,
  ReadingTokenizer,
  readHtml,
  scanText,
  type TextScan,
} from '../../lambdas/engine/html-reading.ts';
import { readMailParts } from '../../lambdas/engine/mail-reading.ts';
import { generatedHtml } from './helpers.ts';

const text = (html: string) => readHtml(html, true).text;
const htmlToText = compile({ limits: { maxDepth: 1000 } });
// The classifier's words, upper-cased first as html-to-text upper-cases headings (ß becomes SS there).
const sameWords = (s: string) => words(s.toUpperCase());

describe('readHtml text', () => {
  it('breaks lines at blocks and <br>, and runs inline elements and table cells together', () => {
    expect(text('<p>one</p><p>two</p><div>three</div>four<br>five')).toBe('one\n\ntwo\n\nthree\nfour\nfive');
    expect(text('a<span>b</span>c <b>d</b>')).toBe('abc d');
    expect(text('<table><tr><td>Item</td><td>Price</td></tr></table>after')).toBe('ItemPrice\n\nafter');
  });

  it('collapses whitespace, zero-width space included, keeps <pre> as it is, and decodes entities', () => {
    expect(text('<p>words\n   more\t\u200bwords</p>')).toBe('words more words');
    expect(text('<pre>  a   b\n c</pre>')).toBe('a   b\n c');
    expect(text('&amp; &lt;tag&gt; &eacute;t&eacute; caf&#233;')).toBe('& <tag> été café');
  });

  it('drops style, script and everything outside the body when there is one', () => {
    expect(
      text('<head><title>T</title><style>p{}</style></head><body>x<script>var a</script></body>after'),
    ).toBe('x');
    expect(text('<title>Title</title><p>x</p>')).toBe('Title\n\nx');
  });

  it('shows a link as its text and [href], a bare href without text, mailto without the scheme', () => {
    expect(text('see <a href="https://x.example/a">the page</a> now')).toBe(
      'see the page [https://x.example/a] now',
    );
    expect(text('<a href="https://y.example/"><img src="https://y.example/i.png"></a>')).toBe(
      '[https://y.example/i.png]https://y.example/',
    );
    expect(text('<a href="mailto:a@example.org">mail</a> <a href="#top">top</a>')).toBe(
      'mail [a@example.org] top',
    );
    expect(text('<img src="cid:logo" alt="logo"><img alt="only">')).toBe('logo [cid:logo]only');
  });

  it('starts list items on their own line with html-to-text’s markers', () => {
    expect(text('<ul><li>one<li>two</ul><ol start="3"><li>three</li></ol>')).toBe('* one\n* two\n\n3. three');
  });

  it('gives the words html-to-text gives on generated html', () => {
    const html = generatedHtml([
      '<pre>  keep   spaces\n  here <a href="https://p.example/">in pre</a></pre>',
    ]);
    fc.assert(
      fc.property(html, (h) => {
        expect(sameWords(text(h))).toEqual(sameWords(htmlToText(h)));
      }),
      { numRuns: 300 },
    );
  });

  const repo = join(import.meta.dirname, '..', '..');
  const corpus = [join(repo, '..', 'shared', 'corpus'), join(repo, '..', '..', 'shared', 'corpus')].find(
    (d) => existsSync(d),
  );
  it.skipIf(!corpus)(
    'gives the words html-to-text gives on the corpus’s html (../shared/corpus)',
    async () => {
      const files = (await listFiles(join(corpus!, 'phishing_pot'))).filter((_, i) => i % 20 === 0);
      files.push(...(await listFiles(join(corpus!, 'spamassassin'))).filter((_, i) => i % 20 === 0));
      let compared = 0;
      for (const file of files) {
        const mail = await readMailParts(
          stripMboxLine(readFileSync(file)),
          { skipHtmlToText: true, skipImageLinks: true, skipTextToHtml: true, skipTextLinks: true },
          htmlToText,
        ).catch(() => undefined);
        if (!mail?.html) continue;
        compared++;
        expect(sameWords(text(mail.html)), file).toEqual(sameWords(htmlToText(mail.html)));
      }
      expect(compared).toBeGreaterThan(100);
    },
  );
});

describe('readHtml counts and links', () => {
  it('counts hidden text apart from visible text, and finds the links in the same pass', () => {
    const reading = readHtml(
      '<p>Shown text</p><div style="display:none">hidden words <a href="https://h.example/">x</a></div>',
      true,
    );
    expect(reading.stats.visibleChars).toBe('Showntext'.length);
    expect(reading.stats.hiddenChars).toBe('hiddenwordsx'.length);
    expect(reading.stats.hiddenSample).toBe('hidden words x');
    expect(reading.links.links).toEqual([{ href: 'https://h.example/', text: 'x', source: 'a' }]);
  });

  it('reads the first of a repeated attribute, in any case, among attributes it does not read', () => {
    const reading = readHtml(
      '<a class="c" HREF="https://first.example/" width=1 href="https://second.example/" id=x>go</a>' +
        '<span data-x="1" Style="display:none" style="color:red">hid</span><img border=0 src=i.png ALT="pic">',
      true,
    );
    expect(reading.links.links).toEqual([
      { href: 'https://first.example/', text: 'go', source: 'a' },
      { href: 'i.png', source: 'img' },
    ]);
    expect(reading.stats.hiddenChars).toBe('hid'.length);
    expect(reading.text).toBe('go [https://first.example/]hidpic [i.png]');
  });

  it('reads the values of the attributes it reads, entities decoded, whatever the attributes around them hold', () => {
    const reading = readHtml(
      '<a class="x&amp;y" href="https://a.example/?a=1&amp;b=2" title=&quot;x>go</a>' +
        '<img width=1&amp;2 src="i&#46;png" data-q=\'&lt;\' alt=p&amp;q><span hidden>h</span>',
      true,
    );
    expect(reading.links.links).toEqual([
      { href: 'https://a.example/?a=1&b=2', text: 'go', source: 'a' },
      { href: 'i.png', source: 'img' },
    ]);
    expect(reading.stats.hiddenChars).toBe(1);
    expect(reading.text).toBe('go [https://a.example/?a=1&b=2]p&q [i.png]h');
  });

  it('reads a repeated style the same each time: its colors win over the color attributes, which fill in', () => {
    const html =
      '<div style="color:#fff">a</div><div style="color:#fff" bgcolor="#000">bb</div>' +
      '<p style="color:#fff;background:#fff">ccc</p><p style="color:#fff;background:#fff" bgcolor="#000">dddd</p>' +
      '<div style="display:none"><span style="color:#fff">eeeee</span></div><span style="color:#fff">ffffff</span>' +
      '<font color="#ffffff" style="x:y">g</font><font color="#000" style="x:y">hh</font>' +
      '<td bgcolor="#000"><b style="color:#fff">iii</b></td>';
    // Hidden: white on the white page (a, ffffff, g), on a white background set with it (ccc, dddd: the
    // style's background wins over bgcolor), or under display:none (eeeee). Shown: bb, hh and iii.
    for (let pass = 0; pass < 2; pass++) {
      const { stats } = readHtml(html, false);
      expect(stats.hiddenChars).toBe(1 + 3 + 4 + 5 + 6 + 1);
      expect(stats.visibleChars).toBe(2 + 2 + 3);
    }
  });

  it('bounds a million links and 100,000 open elements: links capped, text still read, flagged too deep', () => {
    const many = Array.from({ length: 200_000 }, (_, i) => `<a href=//${i.toString(36)}.x>w</a>`).join('');
    const flood = readHtml(many, true);
    expect(flood.links.links.length).toBe(MAX_LINKS + MAX_LINK_HOSTS);
    expect(flood.links.truncated).toBe(true);
    expect(flood.text.length).toBeLessThanOrEqual(many.length);

    const deep = readHtml(`${'<div><span>'.repeat(50_000)}<p>deep words</p>`, true);
    expect(deep.tooDeep).toBe(true);
    expect(deep.text).toContain('deep words');
    expect(deep.text.split('\n').length).toBeLessThanOrEqual(2 * MAX_HTML_DEPTH + 10);
  });
});

describe('ReadingTokenizer', () => {
  /** Every event htmlparser2's Parser gives for `html` written in `chunk`-character pieces, with its offsets. */
  const events = (html: string, chunk: number, tokenizer?: typeof Tokenizer): unknown[] => {
    const seen: unknown[] = [];
    const parser: Parser = new Parser(
      new Proxy(
        {},
        {
          get: (_, name) =>
            name === 'onparserinit'
              ? undefined
              : (...args: unknown[]) => seen.push([name, parser.startIndex, parser.endIndex, ...args]),
        },
      ),
      {
        decodeEntities: true,
        lowerCaseTags: true,
        lowerCaseAttributeNames: true,
        ...(tokenizer ? { Tokenizer: tokenizer } : {}),
      },
    );
    for (let at = 0; at < html.length; at += chunk) parser.write(html.slice(at, at + chunk));
    parser.end();
    return seen;
  };
  // Html made of the pieces the tokenizer's states turn on: tags, quotes, entities, special elements.
  const piece = fc.constantFrom(
    '<',
    '>',
    '</',
    '/>',
    '&',
    '&amp;',
    '&#x41;',
    '&#65',
    '&nbsp',
    '&notit;',
    '"',
    "'",
    '=',
    ' ',
    '\n',
    '\t',
    'a',
    'x y',
    '<div class="c">',
    "<a href='u?a=1&b=2'>",
    '<p title=a&amp;b>',
    '<script>',
    '</script>',
    '<style>',
    '</style>',
    '<title>',
    '</title>',
    '<textarea>',
    '<!--',
    '-->',
    '<!DOCTYPE html>',
    '<![CDATA[',
    ']]>',
    '<?x?>',
    '<br/>',
    '\u00e9',
    '<td width=10 height = "5"\n   class=\'x\' nowrap>',
    '<img  src=u alt=a/>',
    '</div >',
    '</ div\t>',
    '<a\thref',
    'title',
    ' =',
    '  \n ',
    '<font',
    '<stylex>',
    '<sc',
    '</style ',
  );
  it('gives the events htmlparser2’s Tokenizer gives, at the same offsets, however the html is written', () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 60 }), fc.integer({ min: 1, max: 40 }), (pieces, chunk) => {
        const html = pieces.join('');
        expect(events(html, chunk, ReadingTokenizer as unknown as typeof Tokenizer)).toEqual(
          events(html, chunk),
        );
      }),
      { numRuns: 3000 },
    );
  });
});

describe('scanText', () => {
  it('counts and bounds a text node as the regular expressions for them do', () => {
    const char = fc.constantFrom(
      ' ',
      '  ',
      '\t',
      '\n',
      '\r',
      '\f',
      '\v',
      '\u200b',
      '\u00a0',
      '\u2003',
      '\ufeff',
      'a',
      'é',
      '日',
      '\u0085',
      '\u007f',
      '\u0000',
    );
    fc.assert(
      fc.property(fc.array(char, { maxLength: 30 }), (chars) => {
        const t = chars.join('');
        const scan: TextScan = { nonSpace: -1, from: -2, to: -2, collapse: true };
        scanText(t, scan);
        const from = t.search(/[^ \t\r\n\f\u200b]/);
        const to =
          from < 0
            ? 0
            : t.length -
              t
                .split('')
                .reverse()
                .join('')
                .search(/[^ \t\r\n\f\u200b]/);
        expect(scan).toEqual({
          nonSpace: (t.match(/\S/g) ?? []).length,
          from,
          to,
          collapse: from >= 0 && /[\t\r\n\f\u200b]|\x20[ \t\r\n\f\u200b]/.test(t.slice(from, to)),
        });
      }),
      { numRuns: 5000 },
    );
  });
});
