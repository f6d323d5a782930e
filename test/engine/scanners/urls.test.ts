import { describe, expect, it } from 'vitest';
import { buildFeeds } from '../../../lambdas/engine/feeds.ts';
import { lookalikeOfBrand } from '../../../lambdas/engine/lookalike.ts';
import { urls } from '../../../lambdas/engine/scanners/urls.ts';
import { ctxFrom, eml, fixture, inputFrom, testConfig, zoneResolver } from '../helpers.ts';

const findingsOf = async (raw: string | Buffer) => urls.scan(await inputFrom(raw), ctxFrom());

describe('urls scanner', () => {
  it('emits URL_HREF_TEXT_MISMATCH with the offending URL as evidence', async () => {
    const findings = await findingsOf(fixture('phish-href-mismatch.eml'));
    const mismatch = findings.find((f) => f.symbol === 'URL_HREF_TEXT_MISMATCH');
    expect(mismatch?.evidence).toContain('login.secure-account-check.example.net');
  });

  it('emits IP host, shortener, credentials, punycode and suspicious TLD symbols', async () => {
    const symbols = (await findingsOf(fixture('urls-suspicious.eml'))).map((f) => f.symbol).sort();
    expect(symbols).toEqual([
      'URL_CREDENTIALS',
      'URL_IP_HOST',
      'URL_LOOKALIKE_BRAND',
      'URL_PUNYCODE',
      'URL_SHORTENER',
      'URL_SUSPICIOUS_TLD',
    ]);
  });

  it('accepts anchor text naming the same registrable domain as the href', async () => {
    const html =
      '<a href="https://mail.example.org/x">www.example.org</a> <a href="https://example.org">click here</a>';
    const raw = eml({ From: 'a@example.org', Subject: 's', 'Content-Type': 'text/html' }, html);
    expect(await findingsOf(raw)).toEqual([]);
  });

  it('emits URL_MANY for a message with an unusual number of links', async () => {
    const text = Array.from({ length: 80 }, (_, i) => `https://site${i}.example.org/`).join('\n');
    const symbols = (await findingsOf(eml({ From: 'a@example.org', Subject: 's' }, text))).map(
      (f) => f.symbol,
    );
    expect(symbols).toEqual(['URL_MANY']);
  });

  it('truncates long evidence', async () => {
    const long = `http://192.0.2.1/${'a'.repeat(500)}`;
    const [finding] = await findingsOf(eml({ From: 'a@example.org', Subject: 's' }, long));
    expect(finding?.evidence?.length).toBeLessThanOrEqual(203);
  });
});

describe('urls scanner, deep checks', () => {
  const symbolsOf = async (name: string, ctx = ctxFrom()) =>
    (await urls.scan(await inputFrom(fixture(name)), ctx)).map((f) => f.symbol).sort();

  it.each([
    ['url-lookalike-brand.eml', ['URL_LOOKALIKE_BRAND']],
    ['url-idn-homoglyph.eml', ['URL_LOOKALIKE_BRAND', 'URL_PUNYCODE']],
    ['url-lookalike-protected.eml', ['URL_LOOKALIKE_PROTECTED']],
    ['url-brand-in-subdomain.eml', ['URL_BRAND_IN_HOST']],
    ['url-open-redirect.eml', ['URL_OPEN_REDIRECT']],
    ['url-data-uri.eml', ['URL_DATA_URI']],
    ['url-credential-form.eml', ['URL_PASSWORD_FORM']],
    ['url-numeric-host.eml', ['URL_NUMERIC_HOST']],
    ['url-html-attachment-form.eml', ['URL_PASSWORD_FORM']],
  ])('flags %s with %j', async (file, expected) => {
    expect(await symbolsOf(file)).toEqual(expected);
  });

  it('reads links in HTML attachments and names the attachment', async () => {
    const input = await inputFrom(fixture('url-html-attachment-form.eml'));
    expect(input.parsed.links).toContainEqual({
      href: 'https://collect.phish-kit.test/next.php',
      source: 'form',
      password: true,
      attachment: 'Remittance.html',
    });
    const [finding] = await urls.scan(input, ctxFrom());
    expect(finding?.evidence).toBe('https://collect.phish-kit.test/next.php (in Remittance.html)');
  });

  it('names the imitated domain and the kind of imitation in the evidence', async () => {
    const findings = await urls.scan(await inputFrom(fixture('url-idn-homoglyph.eml')), ctxFrom());
    expect(findings.find((f) => f.symbol === 'URL_LOOKALIKE_BRAND')?.evidence).toContain(
      'homoglyph of paypal',
    );
    const protectedHit = await urls.scan(await inputFrom(fixture('url-lookalike-protected.eml')), ctxFrom());
    expect(protectedHit[0]?.evidence).toContain('of example.com');
  });

  it("accepts the brand's own domains under any TLD and the protected domain itself", async () => {
    const html = [
      'https://www.paypal.co.uk/x',
      'https://www.amazon.de/y',
      'https://portal.example.com/z',
      'https://accounts.google.com/?continue=https://mail.google.com/',
    ]
      .map((u) => `<a href="${u}">link</a>`)
      .join(' ');
    const raw = eml({ From: 'a@example.org', Subject: 's', 'Content-Type': 'text/html' }, html);
    expect(await findingsOf(raw)).toEqual([]);
  });

  it('ignores inline data: images and password forms posting to the sender domain', async () => {
    const html =
      '<img src="data:image/png;base64,iVBORw0KGgo="><form action="https://login.example.org/"><input type="password"></form>';
    const raw = eml({ From: 'it@example.org', Subject: 's', 'Content-Type': 'text/html' }, html);
    expect(await findingsOf(raw)).toEqual([]);
  });

  it('emits URL_FEED_LISTED for a domain or an exact URL on a feed', async () => {
    const feeds = buildFeeds([['local', 'bad.example.net\nhttps://ok.example.org/phish/page\n']]);
    const html = '<a href="https://www.bad.example.net/a">x</a>';
    const text = 'see https://ok.example.org/phish/page#frag and https://ok.example.org/fine';
    for (const [body, type, evidence] of [
      [html, 'text/html', 'local: bad.example.net'],
      [text, 'text/plain', 'local: https://ok.example.org/phish/page'],
    ] as const) {
      const input = await inputFrom(eml({ From: 'a@example.org', Subject: 's', 'Content-Type': type }, body));
      const findings = await urls.scan(input, { ...ctxFrom(), feeds });
      expect(findings).toEqual([{ symbol: 'URL_FEED_LISTED', evidence }]);
    }
  });

  it('queries configured DNS blocklist zones through the injected resolver only', async () => {
    const config = testConfig({ detection: { dnsbl: { zones: ['dbl.example'] } } });
    const zone = zoneResolver({ 'phish-kit.test.dbl.example': { A: ['127.0.1.2'] } });
    const raw = eml(
      { From: 'a@example.org', Subject: 's' },
      'https://www.phish-kit.test/ https://fine.example.org/',
    );
    const findings = await urls.scan(await inputFrom(raw), ctxFrom(config, zone));
    expect(findings).toEqual([{ symbol: 'URL_DNSBL_LISTED', evidence: 'phish-kit.test in dbl.example' }]);
    const none = await urls.scan(await inputFrom(raw), ctxFrom(testConfig(), zone));
    expect(none).toEqual([]);
  });

  it('treats a blocklist refusal code (127.255.255.x) as not listed', async () => {
    const config = testConfig({ detection: { dnsbl: { zones: ['dbl.example'] } } });
    const zone = zoneResolver({ 'phish-kit.test.dbl.example': { A: ['127.255.255.254'] } });
    const raw = eml({ From: 'a@example.org', Subject: 's' }, 'https://www.phish-kit.test/');
    expect(await urls.scan(await inputFrom(raw), ctxFrom(config, zone))).toEqual([]);
  });

  it('catches a phishing link after 1,001 harmless ones (issue 7: padding)', async () => {
    const harmless = Array.from({ length: 1001 }, (_, i) => `https://www.example.org/page/${i}`).join('\n');
    const raw = eml({ From: 'a@example.org', Subject: 's' }, `${harmless}\nhttp://192.0.2.7/login\n`);
    const symbols = (await findingsOf(raw)).map((f) => f.symbol);
    expect(symbols).toContain('URL_IP_HOST');
  });
});

describe('lookalikeOfBrand', () => {
  it('gives the same answer when asked again (the answer is kept per domain)', () => {
    const domains = [
      'paypa1.com',
      'rnicrosoft.net',
      'dropbx.com',
      'paypal.co.uk',
      'example.com',
      'chase.com',
    ];
    const first = domains.map((d) => lookalikeOfBrand(d));
    expect(first.slice(0, 3).map((l) => l?.target)).toEqual(['paypal', 'microsoft', 'dropbox']);
    expect(first.slice(3)).toEqual([undefined, undefined, undefined]);
    expect(domains.map((d) => lookalikeOfBrand(d))).toEqual(first);
  });
});
