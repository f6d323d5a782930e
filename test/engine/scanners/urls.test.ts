import { describe, expect, it } from 'vitest';
import { urls } from '../../../lambdas/engine/scanners/urls.ts';
import { ctxFrom, eml, fixture, inputFrom } from '../helpers.ts';

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
