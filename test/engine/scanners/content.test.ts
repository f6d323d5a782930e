import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EMBEDDED_DEFAULT_CONFIG, parseConfig } from '../../../lambdas/config/load-config.ts';
import {
  content,
  impersonatedBrand,
  PhraseList,
  SPAM_PHRASES,
  SPAM_PHRASES_MAX_POINTS,
  URGENCY_PHRASES,
} from '../../../lambdas/engine/scanners/content.ts';
import { ctxFrom, eml, fixture, inputFrom } from '../helpers.ts';

const symbols = async (raw: string | Buffer) =>
  (await content.scan(await inputFrom(raw), ctxFrom())).map((f) => f.symbol).sort();

describe('content scanner', () => {
  it('emits nothing for a clean personal message', async () => {
    expect(await symbols(fixture('clean-plain.eml'))).toEqual([]);
  });

  it('emits CONTENT_SPAM_PHRASES and CONTENT_SUBJECT_ALL_CAPS for a bulk pitch', async () => {
    const findings = await content.scan(await inputFrom(fixture('spam-phrases.eml')), ctxFrom());
    const phrases = findings.find((f) => f.symbol === 'CONTENT_SPAM_PHRASES');
    expect(phrases?.weight).toBe(SPAM_PHRASES_MAX_POINTS);
    // A phrase list alone stays under the tag threshold: it needs one more sign.
    expect(SPAM_PHRASES_MAX_POINTS).toBeLessThan(parseConfig(EMBEDDED_DEFAULT_CONFIG).policy.thresholds.tag);
    expect(findings.map((f) => f.symbol)).toContain('CONTENT_SUBJECT_ALL_CAPS');
  });

  it('emits urgency, brand impersonation, greeting-by-address and HTML-only for a phishing lure', async () => {
    expect(await symbols(fixture('phish-href-mismatch.eml'))).toEqual([
      'CONTENT_BRAND_IMPERSONATION',
      'CONTENT_GREETS_ADDRESS',
      'CONTENT_HTML_ONLY',
      'CONTENT_URGENCY',
    ]);
  });

  it('emits CONTENT_OBFUSCATED_TEXT for a word mixing Latin and Cyrillic letters', async () => {
    const raw = eml({ From: 'a@example.org', Subject: 'Your Am\u0430zon order' }, 'Details inside.');
    expect(await symbols(raw)).toEqual(['CONTENT_OBFUSCATED_TEXT']);
  });

  it('emits CONTENT_HTML_ONLY for an html message with real text and no text part', async () => {
    const html = `<p>${'A long enough paragraph of real words for a reader. '.repeat(5)}</p>`;
    const raw = eml({ From: 'a@example.org', Subject: 'Newsletter', 'Content-Type': 'text/html' }, html);
    expect(await symbols(raw)).toEqual(['CONTENT_HTML_ONLY']);
  });

  it('reads the words of an html-only body inside multipart/related: urgency found, not called image-only', async () => {
    const raw = [
      'From: it-desk@example.org',
      'Subject: Mailbox notice',
      'MIME-Version: 1.0',
      'Content-Type: multipart/related; boundary="rel"',
      '',
      '--rel',
      'Content-Type: text/html; charset=utf-8',
      '',
      `<p>${'Your mailbox will be closed within 24 hours unless you verify your account today. '.repeat(2)}</p><img src="cid:logo">`,
      '--rel',
      'Content-Type: image/png; name="logo.png"',
      'Content-ID: <logo>',
      'Content-Transfer-Encoding: base64',
      '',
      'iVBORw0KGgo=',
      '--rel--',
      '',
    ].join('\r\n');
    expect(await symbols(raw)).toEqual(['CONTENT_HTML_ONLY', 'CONTENT_URGENCY']);
  });

  it('emits CONTENT_IMAGE_ONLY for an html message with almost no text', async () => {
    const raw = eml(
      { From: 'a@example.org', Subject: 'Offer', 'Content-Type': 'text/html' },
      '<a href="https://promo.example.org/"><img src="https://promo.example.org/banner.png"></a>',
    );
    expect(await symbols(raw)).toEqual(['CONTENT_IMAGE_ONLY']);
  });

  it('emits CONTENT_SUBJECT_PADDED and CONTENT_SUBJECT_BAIT for a padded, baiting subject', async () => {
    const raw = eml(
      { From: 'a@example.org', Subject: 'Save $500 today                    93910' },
      'Details inside.',
    );
    expect(await symbols(raw)).toEqual(['CONTENT_SUBJECT_BAIT', 'CONTENT_SUBJECT_PADDED']);
  });

  it('emits CONTENT_UNDISCLOSED_RECIPIENTS when the To header hides recipients', async () => {
    const raw = eml(
      { From: 'a@example.org', To: 'undisclosed-recipients:;', Subject: 'Hello' },
      'Details inside.',
    );
    expect(await symbols(raw)).toEqual(['CONTENT_UNDISCLOSED_RECIPIENTS']);
  });

  it('emits CONTENT_HIDDEN_TEXT for text shrunk to a zero font size', async () => {
    const html = `<p>${'Your order has shipped and will arrive on Friday as planned. '.repeat(3)}</p><span style="font-size:0px;">filler words</span>`;
    const raw = eml({ From: 'a@example.org', Subject: 'Order', 'Content-Type': 'text/html' }, html);
    expect(await symbols(raw)).toEqual(['CONTENT_HIDDEN_TEXT', 'CONTENT_HTML_ONLY']);
  });

  it('does not count a phrase found inside a longer word', async () => {
    const raw = eml({ From: 'a@example.org', Subject: 'Meeting' }, 'Please contact now the indebted party.');
    expect(await symbols(raw)).toEqual([]);
  });

  it('emits CONTENT_DOWNLOAD_LURE for a piracy subject whose body is a download link', async () => {
    const raw = eml(
      { From: 'a@example.org', Subject: 'Fusion 360 Pro Crack Serial Key Download For Mac Win' },
      'Fusion 360 Pro Crack Serial Key Download For Mac Win\n\n*Download File* https://t.co/T5pK7tc3bk\n\neebf2c3492\n',
    );
    const findings = await content.scan(await inputFrom(raw), ctxFrom());
    expect(findings.find((f) => f.symbol === 'CONTENT_DOWNLOAD_LURE')?.evidence).toBe(
      'Crack; *Download File* https://',
    );
  });

  it('needs both the piracy subject and the download call for CONTENT_DOWNLOAD_LURE', async () => {
    // A list discussing a cracked cipher, and a release announcement with a download link.
    const cipher = eml(
      { From: 'a@example.org', Subject: 'Distributed.net cracks the RC5-64 cipher' },
      'After four years the key was found. Details: https://example.org/rc5',
    );
    const release = eml(
      { From: 'a@example.org', Subject: 'CuteFTP Pro 3.0 released' },
      'New in this version: faster transfers.\n\nDownload Free Trial:\nhttps://example.org/get',
    );
    expect(await symbols(cipher)).not.toContain('CONTENT_DOWNLOAD_LURE');
    expect(await symbols(release)).not.toContain('CONTENT_DOWNLOAD_LURE');
  });

  it('emits CONTENT_EMPTY for a message with no subject and no body', async () => {
    expect(await symbols(eml({ From: 'a@example.org' }, ''))).toEqual(['CONTENT_EMPTY']);
  });
});

describe('impersonatedBrand', () => {
  it('names the brand when the sender domain does not carry it', () => {
    expect(impersonatedBrand('PayPal Support', 'help@secure-login.example')).toBe('paypal');
  });

  it('accepts the brand on its own domain', () => {
    expect(impersonatedBrand('PayPal', 'service@mail.paypal.com')).toBeUndefined();
    expect(impersonatedBrand('Bank of America', 'alerts@bankofamerica.com')).toBeUndefined();
  });
});

describe('PhraseList', () => {
  // The reading it replaces: one regex per phrase, each needing a word start unless it is punctuation.
  const oneByOne = (phrases: readonly string[], text: string) =>
    phrases.filter((p) => {
      const escaped = p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const wordStart = /^[\p{L}\p{N}]/u.test(p) ? '(?<![\\p{L}\\p{N}])' : '';
      return new RegExp(`${wordStart}${escaped}`, 'u').test(text);
    });

  it('finds what one regex per phrase finds, phrases sharing a start or inside others included', () => {
    for (const phrases of [SPAM_PHRASES, URGENCY_PHRASES]) {
      const list = new PhraseList(phrases);
      // Text stitched from phrase pieces, letters, digits, spaces and punctuation, with no separator
      // between pieces, so phrases overlap, run into words and share starts.
      const piece = fc.oneof(
        fc.constantFrom(...phrases),
        fc.constantFrom(...phrases).map((p) => p.slice(0, Math.ceil(p.length / 2))),
        fc.constantFrom('a', 'x', '0', ' ', '!', 'é', '\u{1D400}', '-', '\n'),
      );
      fc.assert(
        fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
          const text = pieces.join('');
          expect(list.hits(text)).toEqual(oneByOne(phrases, text));
        }),
        { numRuns: 400 },
      );
    }
  });

  it('needs a word start for word phrases only', () => {
    const list = new PhraseList(['act now', '!!!', 'verify', 'verify your email']);
    expect(list.hits('contact now')).toEqual([]);
    expect(list.hits('please act now!!!')).toEqual(['act now', '!!!']);
    expect(list.hits('reverify your email')).toEqual([]);
    expect(list.hits('verify your email')).toEqual(['verify', 'verify your email']);
  });
});
