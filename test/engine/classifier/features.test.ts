import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cleanBody,
  EMAIL,
  FeatureList,
  MAX_WORDS,
  messageFeatureList,
  messageFeatures,
  textFeatures,
  withoutEmails,
  words,
} from '../../../lambdas/engine/classifier/features.ts';
import { hashFeature } from '../../../lambdas/engine/classifier/model.ts';
import { DEFAULT_LIMITS, parseMessage } from '../../../lambdas/engine/parse.ts';

// Every header below carries a marker word that must never become a feature: they say which server,
// mailer, list, provider or upstream filter handled the message, i.e. which collection it came from.
const ARTIFACT_HEADERS = [
  'Received: from zqhostmarker.example.net (zqhostmarker [192.0.2.7]) by mx.example.com',
  'Message-ID: <zqmsgidmarker.12345@example.org>',
  'Date: Tue, 3 Sep 2002 10:00:00 +0000',
  'X-Mailer: ZqMailerMarker 6.0',
  'User-Agent: ZqAgentMarker/1.2',
  'List-Id: Zq list <zqlistmarker.lists.example.net>',
  'List-Unsubscribe: <https://lists.example.net/zqunsubmarker>',
  'X-MS-Exchange-Organization-SCL: zqexchangemarker',
  'X-Spam-Status: Yes, score=12.0 tests=ZQSPAMMARKER',
  'X-Spam-Flag: YES',
  'Return-Path: <zqbouncemarker@example.org>',
  'DKIM-Signature: v=1; d=example.org; s=zqselectormarker; b=abc',
];

const message = (body: string, headers: string[] = []) =>
  Buffer.from(
    [
      ...headers,
      'From: "Alice Example" <alice.zqaddressmarker@example.org>',
      'To: bob@example.com',
      'Subject: Quarterly report ready',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      body,
    ].join('\r\n'),
  );

describe('messageFeatures', () => {
  it('never yields a feature from Received, Message-ID, Date, mailer, list, provider or X-Spam headers', async () => {
    const parsed = await parseMessage(message('The report is attached.', ARTIFACT_HEADERS), DEFAULT_LIMITS);
    const features = messageFeatures(parsed);
    expect(features).toContain('s:quarterly');
    expect(features).toContain('report');
    expect(features.filter((f) => /zq|2002|spam/.test(f))).toEqual([]);
  });

  it('gives the same features with or without the artifact headers', async () => {
    const body = 'Please review the attached figures before Monday.';
    const bare = messageFeatures(await parseMessage(message(body), DEFAULT_LIMITS));
    const dressed = messageFeatures(await parseMessage(message(body, ARTIFACT_HEADERS), DEFAULT_LIMITS));
    expect(dressed).toEqual(bare);
  });

  it('drops email addresses from the body and the subject, such as a honeypot recipient', async () => {
    const parsed = await parseMessage(message('Dear phishing@pot, verify your account now.'), DEFAULT_LIMITS);
    const features = messageFeatures(parsed);
    expect(features).toContain('verify');
    expect(features.some((f) => /phishing|pot/.test(f))).toBe(false);
  });

  it('reads links as domain, public suffix, host words and path words, not as body words', async () => {
    const parsed = await parseMessage(
      message('Log in at https://secure-login.example.co.uk/account/verify.php?id=123 today.'),
      DEFAULT_LIMITS,
    );
    const features = messageFeatures(parsed);
    expect(features).toEqual(
      expect.arrayContaining(['u:d:example.co.uk', 'u:tld:co.uk', 'u:h:secure', 'u:p:verify', 'u:p:php']),
    );
    expect(features).not.toContain('https');
    expect(features).not.toContain('php');
  });

  it("ignores a mailing list's footer and the links in it", async () => {
    const body = [
      'The patch fixes the race in the driver.',
      '',
      '_______________________________________________',
      'Zqlist-devel mailing list',
      'https://lists.example.net/lists/listinfo/zqlist-devel',
    ].join('\n');
    const features = messageFeatures(await parseMessage(message(body), DEFAULT_LIMITS));
    expect(features).toContain('patch');
    expect(features.some((f) => /zqlist|listinfo|mailing/.test(f))).toBe(false);
  });

  it('names attachment types and extensions', async () => {
    const raw = Buffer.from(
      [
        'From: a@example.org',
        'Subject: invoice',
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="b"',
        '',
        '--b',
        'Content-Type: text/plain',
        '',
        'See attached.',
        '--b',
        'Content-Type: application/pdf; name="Invoice.PDF"',
        'Content-Disposition: attachment; filename="Invoice.PDF"',
        'Content-Transfer-Encoding: base64',
        '',
        'JVBERi0xLjQK',
        '--b--',
        '',
      ].join('\r\n'),
    );
    const features = messageFeatures(await parseMessage(raw, DEFAULT_LIMITS));
    expect(features).toEqual(expect.arrayContaining(['a:type:application/pdf', 'a:ext:pdf']));
  });
});

describe('withoutEmails', () => {
  it('removes what the address regex removes, on any mix of address characters and separators', () => {
    const pieces = [
      'a',
      'bob',
      '@',
      '.',
      '-',
      '_',
      ' ',
      '<',
      ':',
      'é',
      '\u00a0',
      'x'.repeat(70),
      'y'.repeat(260),
    ];
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...pieces), { maxLength: 30 }).map((p) => p.join('')),
        (s) => {
          expect(withoutEmails(s)).toBe(s.replace(EMAIL, ' '));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('words', () => {
  it('lowercases, splits on non-letters and turns digits to 0, so years and numbers say only their length', () => {
    expect(words("Don't miss the 2002 SALE, only $49.99!")).toEqual([
      'don',
      't',
      'miss',
      'the',
      '0000',
      'sale',
      'only',
      '00',
      '00',
    ]);
  });

  it('reads at most MAX_WORDS words', () => {
    expect(words('word '.repeat(MAX_WORDS * 3))).toHaveLength(MAX_WORDS);
  });

  it('gives the words of the per-word reading on ASCII, Unicode and astral letters, digits and separators alike', () => {
    // Each word read with the Unicode classes, then its digits made 0, one word at a time.
    const perWord = (text: string): string[] => {
      const out: string[] = [];
      for (const m of text.toLowerCase().matchAll(/[\p{L}\p{N}]+/gu)) {
        if (m[0].length > 24) continue;
        out.push(m[0].replace(/\p{N}/gu, '0'));
        if (out.length >= MAX_WORDS) break;
      }
      return out;
    };
    // ASCII, Latin-1 and Greek letters, Arabic-Indic and superscript digits, a mathematical digit and
    // letter (outside the BMP), a dotted capital I (two characters once lowercased), separators.
    const pieces = [
      'a',
      'Z',
      '7',
      'é',
      'Σ',
      '\u0663',
      '\u00b2',
      '\u{1d7d8}',
      '\u{1d400}',
      'İ',
      // Past ASCII but neither letter nor digit: a combining accent, quotes, a dash, a no-break and a
      // zero-width space, an ideographic full stop; then letters and a letter-number (Roman one).
      '\u0301',
      '\u2019',
      '\u2014',
      '\u00a0',
      '\u200b',
      '\u3002',
      '\u00aa',
      '\u00b5',
      '\u4e2d',
      '\u2160',
      'ß',
      '_',
      ' ',
      '-',
      'x'.repeat(23),
    ];
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...pieces), { maxLength: 30 }).map((p) => p.join('')),
        (s) => {
          expect(words(s)).toEqual(perWord(s));
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('textFeatures', () => {
  it('prefixes subject features with s: and adds body bigrams', () => {
    const f = textFeatures('Hello there', 'cheap meds online');
    expect([...f]).toEqual([
      's:hello',
      's:there',
      's:hello there',
      'cheap',
      'meds',
      'cheap meds',
      'online',
      'meds online',
    ]);
  });

  it('bounds the body it reads', () => {
    expect(cleanBody('x '.repeat(1_000_000)).length).toBeLessThanOrEqual(12_000);
  });
});

describe('FeatureList', () => {
  // The features as a set of joined strings: what the list restates without joining them.
  function gramsByName(out: Set<string>, prefix: string, ws: readonly string[]): void {
    for (let i = 0; i < ws.length; i++) {
      out.add(prefix + ws[i]);
      if (i > 0) out.add(`${prefix}${ws[i - 1]} ${ws[i]}`);
    }
  }

  it('holds the same features in the same order as a set of joined names, each with its hashFeature', () => {
    // Few distinct words, so that words and pairs repeat; words past ASCII and outside the BMP too.
    const word = fc.constantFrom('a', 'b', 'ab', 'ba', '0', 'é', 'σ', '\u{1d400}x', 'free', 'free0');
    fc.assert(
      fc.property(
        fc.array(word, { maxLength: 40 }),
        fc.array(word, { maxLength: 60 }),
        fc.array(fc.constantFrom('n:a', 'u:d:a.com', 'a:ext:pdf', 'x:no-subject'), { maxLength: 5 }),
        (subject, body, whole) => {
          const expected = new Set<string>();
          gramsByName(expected, 's:', subject);
          gramsByName(expected, '', body);
          for (const f of whole) expected.add(f);
          const list = new FeatureList();
          list.grams('s:', subject);
          list.grams('', body);
          for (const f of whole) list.add(f);
          expect(list.names()).toEqual([...expected]);
          expect(list.hashes).toEqual([...expected].map(hashFeature));
          expect(list.length).toBe(expected.size);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('reads text into the same grams as words() does, with the same hashes', () => {
    const piece = fc.constantFrom(
      'a',
      'B',
      'ab',
      'Ab',
      '0',
      '7',
      'x9',
      'free',
      'FREE',
      'y'.repeat(24),
      'z'.repeat(25),
      ' ',
      '  ',
      '\n',
      '.',
      '-',
      "'",
      '_',
      '\u212a',
      'é',
    );
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 80 }).map((p) => p.join('')),
        fc.constantFrom('', 's:'),
        fc.constantFrom(1, 3, 40, MAX_WORDS),
        (text, prefix, max) => {
          const expected = new FeatureList();
          expected.grams(prefix, words(text).slice(0, max));
          const list = new FeatureList();
          list.textGrams(prefix, text, max);
          expect(list.names()).toEqual(expected.names());
          expect(list.hashes).toEqual(expected.hashes);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('stops reading at MAX_WORDS words, as words() does', () => {
    const text = Array.from({ length: 2 * MAX_WORDS }, (_, i) => `w${i % 700} x${'q'.repeat(i % 30)}`).join(
      ' ',
    );
    const expected = new FeatureList();
    expected.grams('', words(text));
    const list = new FeatureList();
    list.textGrams('', text, MAX_WORDS);
    expect(list.names()).toEqual(expected.names());
    expect(list.hashes).toEqual(expected.hashes);
  });

  it('gives messageFeatures its names and hashes of a whole message', async () => {
    const body = 'Win a free prize now, win a free prize today! Visit https://win.example.net/claim?id=12';
    const list = messageFeatureList(await parseMessage(message(body), DEFAULT_LIMITS));
    const names = messageFeatures(await parseMessage(message(body), DEFAULT_LIMITS));
    expect(list.names()).toEqual(names);
    expect(list.hashes).toEqual(names.map(hashFeature));
    expect(names).toContain('win a');
    expect(names.filter((f) => f === 'win a')).toHaveLength(1);
  });
});
