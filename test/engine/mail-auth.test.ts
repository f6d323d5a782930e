// The auth check gives what mailauth's own authenticate() gives (DKIM with its body hashes, SPF, ARC,
// DMARC), on generated messages: signed or not, body changed or not, LF or CRLF, with or without a
// blank line, bodies longer than mailauth's 64 KiB write pieces, sealed by ARC or not.

import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { authenticate, dkimSign, sealMessage, spf } from 'mailauth';
import { parseHeaders } from 'mailauth/lib/tools.js';
import { describe, expect, it } from 'vitest';
import {
  authenticateMessage,
  headerBlockEnd,
  parseHeaderBlock,
  withoutTrailingWsp,
  wspRunsAsSpace,
} from '../../lambdas/engine/mail-auth.ts';
import { mailauthLineBreaks } from '../../lambdas/engine/scanners/auth.ts';
import { zoneResolver } from './helpers.ts';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const publicB64 = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const resolver = zoneResolver({
  'example.org': { TXT: [['v=spf1 ip4:192.0.2.10 -all']] },
  'example.net': { TXT: [['v=spf1 ip4:192.0.2.0/24 ~all']] },
  '_dmarc.example.org': { TXT: [['v=DMARC1; p=reject']] },
  '_dmarc.example.net': { TXT: [['v=DMARC1; p=quarantine']] },
  'sel._domainkey.example.org': { TXT: [[`v=DKIM1; k=rsa; p=${publicB64}`]] },
  'sel._domainkey.example.net': { TXT: [[`v=DKIM1; k=rsa; p=${publicB64}`]] },
  'arc._domainkey.example.net': { TXT: [[`v=DKIM1; k=rsa; p=${publicB64}`]] },
});

/** What the scanner reads from a result, with authenticate()'s header text and random ids left out. */
const comparable = (r: { dkim: unknown; spf: unknown; arc: unknown; dmarc: unknown }) =>
  JSON.parse(
    JSON.stringify({ dkim: r.dkim, spf: r.spf, arc: r.arc, dmarc: r.dmarc }, (key, value) =>
      key === 'authResults' || (key === 'id' && /^[0-9a-f-]{36}$/.test(String(value))) ? undefined : value,
    ),
  );

async function both(message: Buffer, opts: { ip?: string; helo?: string; sender?: string }) {
  const normalised = mailauthLineBreaks(message);
  const theirs = await authenticate(normalised, {
    ...opts,
    resolver: resolver as never,
    mta: 'seg',
    disableBimi: true,
  });
  const ours = await authenticateMessage(normalised, { ...opts, resolver: resolver as never, mta: 'seg' });
  // The message as received, its bare LFs left for authenticateMessage to repair where it needs to.
  const fromRaw = await authenticateMessage(message, { ...opts, resolver: resolver as never, mta: 'seg' });
  expect(comparable({ ...fromRaw, dkim: { ...fromRaw.dkim, arc: undefined } })).toEqual(
    comparable({ ...ours, dkim: { ...ours.dkim, arc: undefined } }),
  );
  return {
    theirs: comparable({ dkim: { ...theirs.dkim }, spf: theirs.spf, arc: theirs.arc, dmarc: theirs.dmarc }),
    ours: comparable({
      dkim: { ...ours.dkim, arc: undefined },
      spf: ours.spf,
      arc: ours.arc,
      dmarc: ours.dmarc,
    }),
  };
}

const line = fc.stringMatching(/^[ -~\t]{0,90}$/);
const message = fc.record({
  from: fc.constantFrom('alice@example.org', 'bob@example.net', 'carol@example.com', ''),
  returnPath: fc.option(fc.constantFrom('bounce@example.org', 'list@example.net'), { nil: undefined }),
  extra: fc.array(fc.tuple(fc.constantFrom('Subject', 'X-Note', 'Received', 'Content-Type'), line), {
    maxLength: 5,
  }),
  body: fc.array(line, { maxLength: 40 }),
  // How body lines end: relaxed canonicalization rewrites a line with a space or tab before its break,
  // or a bare LF (an LF after an LF survives mailauth's CRLF repair), and drops empty lines at the end.
  breaks: fc.constantFrom('\r\n', '\r\n', '\r\n\n', ' \r\n', '\t \r\n', '\r\r\n', '\r\n\r\n'),
  // Past 64 KiB, the body reaches the hashes in more than one piece.
  padding: fc.constantFrom(0, 0, 70_000, 140_000),
  separator: fc.constantFrom(true, true, true, false),
  lf: fc.boolean(),
  sign: fc.constantFrom('none', 'relaxed/relaxed', 'simple/simple', 'relaxed/simple'),
  // A second signature over the first (a mailing list's, say), covering the same fields and itself.
  cosign: fc.boolean(),
  seal: fc.boolean(),
  tamper: fc.boolean(),
  ip: fc.option(fc.constantFrom('192.0.2.10', '198.51.100.7', '::ffff:192.0.2.10'), { nil: undefined }),
  helo: fc.option(fc.constantFrom('mail.example.org', '192.0.2.10'), { nil: undefined }),
  sender: fc.option(fc.constantFrom('alice@example.org', 'x@example.net', ''), { nil: undefined }),
});

// Signed in the past: a signature stamped "now" is from the future for a verifier whose clock read the
// same second a moment earlier, and the two verifiers compared here read their clocks apart.
const SIGN_TIME = new Date('2026-01-01T00:00:00Z');

type Message = typeof message extends fc.Arbitrary<infer T> ? T : never;

async function build(m: Message) {
  const headers = [
    ...(m.from ? [`From: ${m.from}`] : []),
    ...(m.returnPath ? [`Return-Path: <${m.returnPath}>`] : []),
    'To: user@example.com',
    ...m.extra.map(([k, v]) => `${k}: ${v}`),
  ];
  const body = [...m.body, 'x'.repeat(m.padding)].join(m.breaks);
  let raw = Buffer.from(`${headers.join('\r\n')}\r\n${m.separator ? `\r\n${body}` : ''}`);
  const domain = m.from.split('@')[1] ?? 'example.org';
  if (m.sign !== 'none') {
    const { signatures } = await dkimSign(raw, {
      canonicalization: m.sign,
      signTime: SIGN_TIME,
      signatureData: [{ signingDomain: domain, selector: 'sel', privateKey: privatePem }],
    } as never);
    raw = Buffer.concat([Buffer.from(signatures), raw]);
    if (m.cosign) {
      const second = await dkimSign(raw, {
        canonicalization: 'relaxed/relaxed',
        signTime: SIGN_TIME,
        headerList: 'From:To:Subject:DKIM-Signature:X-Note:X-Note',
        signatureData: [{ signingDomain: 'example.net', selector: 'sel', privateKey: privatePem }],
      } as never);
      raw = Buffer.concat([Buffer.from(second.signatures), raw]);
    }
  }
  if (m.seal) {
    const sealed = await sealMessage(raw, {
      signingDomain: 'example.net',
      selector: 'arc',
      privateKey: privatePem,
      authResults: 'mx.example.net; dkim=pass header.d=example.net',
      cv: 'none',
      signTime: SIGN_TIME,
    } as never);
    raw = Buffer.concat([sealed, raw]);
  }
  let text = raw.toString('latin1');
  if (m.tamper) text = text.replace(/x(?=[^x]*$)/, 'y').replace(/\r\n\r\n([^\r])/, '\r\n\r\n $1');
  if (m.lf) text = text.replace(/\r\n/g, '\n');
  return Buffer.from(text, 'latin1');
}

describe('authenticateMessage', () => {
  it('gives what mailauth authenticate() gives for DKIM, SPF, ARC and DMARC on generated messages', async () => {
    await fc.assert(
      fc.asyncProperty(message, async (m) => {
        const raw = await build(m);
        const { theirs, ours } = await both(raw, {
          ...(m.ip ? { ip: m.ip } : {}),
          ...(m.helo ? { helo: m.helo } : {}),
          ...(m.sender ? { sender: m.sender } : {}),
        });
        expect(ours).toEqual(theirs);
      }),
      { numRuns: 150 },
    );
  });

  it('hashes a relaxed body as authenticate() does, whatever its spaces, tabs and line breaks', async () => {
    // Bodies made of the bytes relaxed canonicalization treats apart: runs of spaces and tabs, CRLF,
    // stray CRs and LFs, a last line with or without a break.
    const body = fc
      .array(fc.constantFrom('a', 'b', ' ', ' ', '  ', '\t', '\r\n', '\r\n', '\r', '\n', '\r\n\r\n'), {
        maxLength: 60,
      })
      .map((parts) => parts.join(''));
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        const raw = Buffer.from(
          'DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=sel; h=from; bh=x; b=x\r\n' +
            `From: alice@example.org\r\n\r\n${b}`,
          'latin1',
        );
        const { theirs, ours } = await both(raw, { sender: 'alice@example.org' });
        expect(ours.dkim).toEqual(theirs.dkim);
        // Stored without a CR, it gets one before every LF: its relaxed body is read from its own text.
        const lf = await both(Buffer.from(raw.toString('latin1').replace(/\r/g, ''), 'latin1'), {
          sender: 'alice@example.org',
        });
        expect(lf.ours.dkim).toEqual(lf.theirs.dkim);
      }),
      { numRuns: 300 },
    );
  });

  it('without a client IP, SPF makes no lookup and never passes, so leaving it out changes nothing else', async () => {
    const name = fc.stringMatching(/^[ -~]{0,30}$/);
    await fc.assert(
      fc.asyncProperty(
        message,
        fc.option(fc.oneof(name, fc.constantFrom('alice@example.org', 'x@example.net')), { nil: undefined }),
        fc.option(name, { nil: undefined }),
        async (m, sender, helo) => {
          let lookups = 0;
          const counting = async (n: string, rr: string) => {
            lookups++;
            return resolver(n, rr);
          };
          const alone = await spf({
            resolver: counting as never,
            ip: undefined as never,
            mta: 'seg',
            helo,
            sender,
          });
          expect(lookups).toBe(0);
          expect(alone.status.result).not.toBe('pass');
          const raw = await build({ ...m, ip: undefined });
          const opts = {
            resolver: resolver as never,
            mta: 'seg',
            ...(helo ? { helo } : {}),
            ...(sender ? { sender } : {}),
          };
          const whole = await authenticateMessage(raw, opts);
          const without = await authenticateMessage(raw, { ...opts, spfOnlyWithIp: true });
          expect(without.spf).toBe(false);
          expect(
            comparable({ ...without, spf: undefined, dkim: { ...without.dkim, arc: undefined } }),
          ).toEqual(comparable({ ...whole, spf: undefined, dkim: { ...whole.dkim, arc: undefined } }));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('passes a signed message and fails it once its body changed, as authenticate() does', async () => {
    const m: Omit<Message, 'tamper' | 'cosign'> & { cosign: false } = {
      from: 'alice@example.org',
      returnPath: undefined,
      extra: [],
      body: ['Lunch at noon?'],
      breaks: '\r\n',
      padding: 0,
      separator: true,
      lf: false,
      sign: 'relaxed/relaxed',
      cosign: false,
      seal: false,
      ip: '192.0.2.10',
      helo: undefined,
      sender: 'alice@example.org',
    };
    const check = async (tamper: boolean) =>
      authenticateMessage(await build({ ...m, tamper }), {
        resolver: resolver as never,
        ip: m.ip,
        sender: m.sender,
        mta: 'seg',
      });
    const pass = await check(false);
    expect(pass.dkim.results.map((r) => r.status.result)).toEqual(['pass']);
    expect(pass.dmarc ? pass.dmarc.status.result : false).toBe('pass');
    const fail = await check(true);
    expect(fail.dkim.results.map((r) => r.status.comment)).toEqual(['body hash did not verify']);
  });
});

describe('relaxed body passes', () => {
  // Texts of the characters the passes look for, in runs: spaces, tabs, breaks, letters.
  const text = fc
    .array(fc.constantFrom('a', 'b', ' ', ' ', '  ', '\t', '\t ', '\r\n', '\r\n', '\r', '\n'), {
      maxLength: 40,
    })
    .map((parts) => parts.join(''));

  it('withoutTrailingWsp drops the spaces and tabs before each CRLF, as /[ \\t]+\\r\\n/g does', () => {
    fc.assert(
      fc.property(text, (t) => {
        expect(withoutTrailingWsp(t)).toBe(t.replace(/[ \t]+\r\n/g, '\r\n'));
      }),
      { numRuns: 5000 },
    );
  });

  it('withoutTrailingWsp with LF breaks drops the spaces and tabs before each LF, as /[ \\t]+\\n/g does', () => {
    fc.assert(
      fc.property(text, (t) => {
        expect(withoutTrailingWsp(t, '\n')).toBe(t.replace(/[ \t]+\n/g, '\n'));
      }),
      { numRuns: 5000 },
    );
  });

  it('wspRunsAsSpace makes each tab and each run of two or more spaces and tabs one space', () => {
    fc.assert(
      fc.property(text, (t) => {
        expect(wspRunsAsSpace(t)).toBe(t.replace(/[ \t]{2,}|\t/g, ' '));
      }),
      { numRuns: 5000 },
    );
  });
});

describe('headerBlockEnd', () => {
  it('finds the LF that ends the header block: after an LF, or after LF CR', () => {
    const end = (s: string) => headerBlockEnd(Buffer.from(s, 'latin1'));
    expect(end('a: b\r\n\r\nbody')).toBe(7);
    expect(end('a: b\n\nbody')).toBe(5);
    expect(end('\n\nbody')).toBe(1);
    expect(end('a: b\r\nc: d\r\n')).toBe(-1);
    expect(end('a: b\r\n\r')).toBe(-1);
  });
});

describe('parseHeaderBlock', () => {
  // Rows as mailauth reads them: name, name as written, and the header's text.
  const rows = (headers: unknown) =>
    (headers as { parsed: { key: unknown; casedKey: unknown; line: Buffer }[] }).parsed.map((r) => [
      r.key,
      r.casedKey,
      r.line.toString('latin1'),
    ]);
  // The bytes that decide the split: breaks, folding whitespace (0xa0 is one to /\s/), colons, letters.
  const block = fc
    .array(fc.constantFrom(0x0a, 0x0d, 0x20, 0x09, 0x0b, 0x3a, 0xa0, 0x41, 0x61, 0xc0, 0x7a), {
      maxLength: 60,
    })
    .map((bytes) => Buffer.from(bytes));

  it("gives mailauth parseHeaders()'s rows for any header block", () => {
    fc.assert(
      fc.property(block, (b) => {
        expect(rows(parseHeaderBlock(b))).toEqual(rows(parseHeaders(b)));
      }),
      { numRuns: 5000 },
    );
  });

  it('joins folded lines with CRLF whether they broke at CRLF or at a bare LF', () => {
    const parsed = rows(
      parseHeaderBlock(Buffer.from('Subject: a\n b\r\n\tc\r\nFrom : x\r\n:y\r\nX-A\n  B\n :z\n\n', 'latin1')),
    );
    expect(parsed).toEqual([
      ['subject', 'Subject', 'Subject: a\r\n b\r\n\tc'],
      ['from', 'From', 'From : x'],
      [null, undefined, ':y'],
      // A name broken at a bare LF reads as joined, with its CR.
      ['x-a\r\n  b', 'X-A\r\n  B', 'X-A\r\n  B\r\n :z'],
    ]);
  });
});
