import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LIMITS,
  extractLinks,
  MAX_LINK_HOSTS,
  MAX_LINKS,
  parseMessage,
  problemKind,
} from '../../lambdas/engine/parse.ts';
import { eml, fixture } from './helpers.ts';

const limits = DEFAULT_LIMITS;

describe('parseMessage', () => {
  it('reads headers, addresses, subject and text of a clean message', async () => {
    const p = await parseMessage(fixture('clean-plain.eml'), limits);
    expect(p.from).toEqual({ address: 'alice@example.org', name: 'Alice Example' });
    expect(p.to).toEqual(['bob@example.com']);
    expect(p.subject).toBe('Lunch on Thursday');
    expect(p.messageId).toBe('<clean-plain-1@example.org>');
    expect(p.text).toContain('lunch on Thursday');
    expect(p.headers.find(([k]) => k === 'subject')?.[1]).toBe('Lunch on Thursday');
    expect(p.problems).toEqual([]);
    expect(p.truncated).toBe(false);
  });

  it('extracts hrefs with anchor text from html and bare URLs from text', async () => {
    const p = await parseMessage(fixture('phish-href-mismatch.eml'), limits);
    expect(p.links).toContainEqual({
      href: 'http://login.secure-account-check.example.net/paypal/verify',
      text: 'https://www.paypal.com/signin',
      source: 'a',
    });
    expect(p.htmlOnly).toBe(true);
  });

  it("reads an html-only message's text from its html, paragraphs on their own lines, links shown", async () => {
    const p = await parseMessage(fixture('phish-href-mismatch.eml'), limits);
    expect(p.text).toBe(
      'Dear bob@example.com,\n\nWe noticed unusual activity on your account. Your account has been limited. ' +
        'Please verify your identity within 24 hours or your account will be closed.\n\n' +
        'https://www.paypal.com/signin [http://login.secure-account-check.example.net/paypal/verify]',
    );
    expect(p.htmlStats).toEqual({ visibleChars: expect.any(Number), hiddenChars: 0, images: 0 });
  });

  it('reads the text of an html-only body that is not the root (inside multipart/mixed)', async () => {
    const raw = [
      'From: a@example.org',
      'Subject: x',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="mix"',
      '',
      '--mix',
      'Content-Type: text/html',
      '',
      '<p>Invoice attached.</p><p>See <a href="https://pay.example.net/">the portal</a></p>',
      '--mix',
      'Content-Type: application/pdf; name="a.pdf"',
      'Content-Disposition: attachment; filename="a.pdf"',
      '',
      '%PDF-1.4',
      '--mix--',
      '',
    ].join('\r\n');
    const p = await parseMessage(Buffer.from(raw), limits);
    expect(p.text).toBe('Invoice attached.\n\nSee the portal [https://pay.example.net/]');
    expect(p.htmlOnly).toBe(true);
  });

  it('keeps every link up to MAX_LINKS, then one per new host', () => {
    const sameHost = Array.from(
      { length: MAX_LINKS + 500 },
      (_, i) => `<a href="http://h.example/${i}">x</a>`,
    );
    const newHosts = Array.from({ length: 50 }, (_, i) => `<a href="http://n${i}.example/">x</a>`);
    const { links, truncated, total } = extractLinks([...sameHost, ...newHosts].join(''), '');
    expect(links).toHaveLength(MAX_LINKS + 50);
    expect(links.at(-1)?.href).toBe('http://n49.example/');
    expect(total).toBe(MAX_LINKS + 550);
    expect(truncated).toBe(false);
  });

  it('bounds a million links: at most MAX_LINKS + MAX_LINK_HOSTS kept, truncation flagged', () => {
    // 10 chars a link; a million distinct hosts would not fit the body cap, 200,000 do.
    const html = Array.from({ length: 200_000 }, (_, i) => `<a href=//${i.toString(36)}.x>`).join('');
    const text = 'https://a.example/ '.repeat(1_000_000);
    const { links, truncated, total } = extractLinks(html, text);
    expect(links.length).toBe(MAX_LINKS + MAX_LINK_HOSTS);
    expect(truncated).toBe(true);
    expect(total).toBeGreaterThanOrEqual(MAX_LINKS + MAX_LINK_HOSTS);
  });

  it('bounds deeply nested html: 100,000 open elements yield the one link inside, flagged too deep', () => {
    const html = `${'<div><span>'.repeat(50_000)}<a href="https://deep.example.org/">x</a>`;
    const { links, truncated, tooDeep } = extractLinks(html, '');
    expect(links).toEqual([{ href: 'https://deep.example.org/', text: 'x', source: 'a' }]);
    expect(truncated).toBe(false);
    expect(tooDeep).toBe(true);
  });

  it('finds URLs in src, form action, meta refresh, CSS url() and background, with their source', () => {
    const html = `<meta http-equiv="Refresh" content="0; URL=https://refresh.example/">
      <style>.a { background: url('https://css.example/bg.png') }</style>
      <body background="https://bg.example/b.gif"><img src="https://img.example/i.png">
      <iframe src="https://frame.example/"></iframe><script src="https://js.example/s.js"></script>
      <div style="background-image:url(https://inline.example/x.png)"></div>
      <form action="https://post.example/login"><input type="PASSWORD" name="p"></form>
      <area href="https://map.example/">`;
    const { links } = extractLinks(html, 'and https://text.example/path.');
    expect(links.map((l) => [l.source, l.href])).toEqual([
      ['meta', 'https://refresh.example/'],
      ['css', 'https://css.example/bg.png'],
      ['img', 'https://bg.example/b.gif'],
      ['img', 'https://img.example/i.png'],
      ['iframe', 'https://frame.example/'],
      ['script', 'https://js.example/s.js'],
      ['css', 'https://inline.example/x.png'],
      ['form', 'https://post.example/login'],
      ['area', 'https://map.example/'],
      ['text', 'https://text.example/path'],
    ]);
    expect(links.find((l) => l.source === 'form')?.password).toBe(true);
  });

  it('bounds huge html-only mail: text read from the html cut at maxBodyChars, links bounded, truncation flagged', async () => {
    const small = { ...limits, maxBodyChars: 100_000 };
    const para = '<p>Words of a long letter <a href="https://a.example/x">here</a></p>\n';
    const raw = eml(
      { From: 'a@example.org', Subject: 'huge', 'Content-Type': 'text/html; charset=utf-8' },
      para.repeat(Math.ceil(300_000 / para.length)),
    );
    const p = await parseMessage(Buffer.from(raw), small);
    expect(p.html.length).toBe(small.maxBodyChars);
    expect(p.text.length).toBeLessThanOrEqual(small.maxBodyChars);
    expect(p.text).toMatch(/^Words of a long letter here \[https:\/\/a\.example\/x\]\n\nWords/);
    expect(p.links).toEqual([{ href: 'https://a.example/x', text: 'here', source: 'a' }]);
    expect(p.truncated).toBe(true);
    expect(p.problems).toContain(`truncated: body longer than ${small.maxBodyChars} chars`);
  });

  it('cuts bodies longer than maxBodyChars and flags truncation', async () => {
    const raw = eml({ From: 'a@example.org', Subject: 'long' }, 'x'.repeat(5000));
    const p = await parseMessage(Buffer.from(raw), { ...limits, maxBodyChars: 1000 });
    expect(p.text.length).toBe(1000);
    expect(p.truncated).toBe(true);
    expect(p.problems.some((x) => problemKind(x) === 'truncated')).toBe(true);
  });
});

describe('parseMessage on hostile input', () => {
  it('returns an empty message with a problem for an empty file', async () => {
    const p = await parseMessage(new Uint8Array(0), limits);
    expect(p.text).toBe('');
    expect(p.problems).toContain('malformed: empty message');
  });

  it('returns a bounded result for a single byte', async () => {
    const p = await parseMessage(Buffer.from('x'), limits);
    expect(p.sizeBytes).toBe(1);
    expect(p.links).toEqual([]);
  });

  it('reads an inline message/rfc822 that ends before its body (mailparser alone never finishes it)', async () => {
    const p = await parseMessage(
      Buffer.from('Subject: wrapped\r\nContent-Type: message/rfc822\r\nContent-Disposition: inline\r\n'),
      limits,
    );
    expect(p.subject).toBe('wrapped');
    expect(p.headers.map(([name]) => name)).toEqual(['subject', 'content-type', 'content-disposition']);
    expect(p.attachments).toEqual([]);
  });

  it('survives binary garbage', async () => {
    const bytes = Buffer.alloc(64 * 1024);
    let seed = 7;
    for (let i = 0; i < bytes.length; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      bytes[i] = seed & 0xff;
    }
    const p = await parseMessage(bytes, limits);
    expect(p.sizeBytes).toBe(bytes.length);
    expect(p.text.length).toBeLessThanOrEqual(limits.maxBodyChars);
  });

  it('reports a multipart whose boundary never appears', async () => {
    const p = await parseMessage(fixture('mime-missing-boundary.eml'), limits);
    expect(p.problems.some((x) => x.startsWith('malformed: boundary "never-used" never found'))).toBe(true);
  });

  it('reports a part with broken base64 as unreadable', async () => {
    const p = await parseMessage(fixture('mime-broken-base64.eml'), limits);
    expect(p.problems).toContain('unreadable: part 3 has invalid base64');
  });

  it('cuts 2000 nested multiparts at maxDepth', async () => {
    const depth = 2000;
    let head = 'From: a@example.org\r\nSubject: deep\r\nMIME-Version: 1.0\r\n';
    let tail = '';
    for (let i = 0; i < depth; i++) {
      head += `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n`;
      tail = `\r\n--b${i}--\r\n${tail}`;
    }
    const raw = Buffer.from(`${head}Content-Type: text/plain\r\n\r\ninnermost${tail}`);
    const p = await parseMessage(raw, limits);
    expect(p.truncated).toBe(true);
    expect(p.problems).toContain(`truncated: nesting deeper than ${limits.maxDepth}`);
  });

  it('keeps 2000 nested message/rfc822 parts as one bounded attachment', async () => {
    let raw = 'From: a@example.org\r\nSubject: inner\r\nContent-Type: text/plain\r\n\r\nhello\r\n';
    for (let i = 0; i < 2000; i++) {
      raw = `From: a@example.org\r\nSubject: level ${i}\r\nMIME-Version: 1.0\r\nContent-Type: message/rfc822\r\n\r\n${raw}`;
    }
    const p = await parseMessage(Buffer.from(raw), limits);
    expect(p.subject).toBe('level 1999');
    expect(p.attachments).toHaveLength(1);
  });

  it('cuts a message of 5000 parts at maxParts', async () => {
    const parts = Array.from(
      { length: 5000 },
      (_, i) => `--b\r\nContent-Type: text/plain\r\n\r\npart ${i}\r\n`,
    );
    const raw = Buffer.from(
      `From: a@example.org\r\nSubject: many\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n${parts.join('')}--b--\r\n`,
    );
    const p = await parseMessage(raw, limits);
    expect(p.truncated).toBe(true);
    expect(p.problems).toContain(`truncated: more than ${limits.maxParts} parts`);
    expect(p.attachments.length).toBeLessThanOrEqual(limits.maxParts);
  });

  it('scans only the first maxMessageBytes of a larger message', async () => {
    const maxMessageBytes = 64 * 1024;
    const raw = Buffer.from(eml({ From: 'a@example.org', Subject: 'big' }, 'y'.repeat(maxMessageBytes * 2)));
    const p = await parseMessage(raw, { ...limits, maxMessageBytes });
    expect(p.sizeBytes).toBe(raw.length);
    expect(p.truncated).toBe(true);
    expect(p.text.length).toBeLessThan(maxMessageBytes);
    expect(p.problems.some((x) => problemKind(x) === 'oversized')).toBe(true);
  });
});
