import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { dkimSign } from 'mailauth';
import { beforeAll, describe, expect, it } from 'vitest';
import { offlineResolver } from '../../../lambdas/engine/scan-message.ts';
import { auth, authResultsHeader, mailauthLineBreaks } from '../../../lambdas/engine/scanners/auth.ts';
import { ctxFrom, fixture, inputFrom, testConfig, zoneResolver } from '../helpers.ts';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const publicB64 = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');

const zone = {
  'example.org': { TXT: [['v=spf1 ip4:192.0.2.10 -all']] },
  '_dmarc.example.org': { TXT: [['v=DMARC1; p=reject']] },
  'sel._domainkey.example.org': { TXT: [[`v=DKIM1; k=rsa; p=${publicB64}`]] },
};
const resolver = zoneResolver(zone);
const symbolsOf = (findings: readonly { symbol: string }[]) => findings.map((f) => f.symbol).sort();

let signed: Buffer;
beforeAll(async () => {
  const message = fixture('clean-plain.eml');
  const { signatures } = await dkimSign(message, {
    // One sign time: without it mailauth reads the clock twice and a second's tick breaks the signature.
    signTime: new Date(),
    signatureData: [{ signingDomain: 'example.org', selector: 'sel', privateKey: privatePem }],
  } as never);
  signed = Buffer.concat([Buffer.from(signatures), message]);
});

describe('auth scanner', () => {
  it('emits SPF_PASS, DKIM_PASS and DMARC_PASS for a signed message from an authorized host', async () => {
    const input = await inputFrom(signed, {
      envelope: { mailFrom: 'alice@example.org', recipients: ['bob@example.com'], remoteIp: '192.0.2.10' },
    });
    const findings = await auth.scan(input, ctxFrom(testConfig(), resolver));
    expect(symbolsOf(findings)).toEqual(['DKIM_PASS', 'DMARC_PASS', 'SPF_PASS']);
    expect(findings.find((f) => f.symbol === 'DKIM_PASS')?.evidence).toContain('header.d=example.org');
  });

  it('emits SPF_FAIL, DKIM_NONE and DMARC_FAIL_REJECT for an unsigned message from another host', async () => {
    const input = await inputFrom(fixture('clean-plain.eml'), {
      envelope: { mailFrom: 'alice@example.org', recipients: ['bob@example.com'], remoteIp: '198.51.100.7' },
    });
    const findings = await auth.scan(input, ctxFrom(testConfig(), resolver));
    expect(symbolsOf(findings)).toEqual(['DKIM_NONE', 'DMARC_FAIL_REJECT', 'SPF_FAIL']);
  });

  it('leaves the methods SES answered to SES, so one answer is not counted twice', async () => {
    const input = await inputFrom(fixture('clean-plain.eml'), {
      envelope: { mailFrom: 'alice@example.org', recipients: ['bob@example.com'], remoteIp: '198.51.100.7' },
      ses: { spf: 'PASS', dkim: 'DISABLED', dmarc: 'PASS' },
    });
    const findings = await auth.scan(input, ctxFrom(testConfig(), resolver));
    // SPF and DMARC come from SES; DKIM, which SES did not check, still comes from mailauth.
    expect(symbolsOf(findings)).toEqual(['DKIM_NONE']);
  });

  it('emits DKIM_FAIL when the signed body was changed', async () => {
    const tampered = Buffer.from(signed.toString().replace('noon', 'one'));
    const input = await inputFrom(tampered, {
      envelope: { mailFrom: 'alice@example.org', recipients: ['bob@example.com'], remoteIp: '192.0.2.10' },
    });
    const findings = await auth.scan(input, ctxFrom(testConfig(), resolver));
    expect(symbolsOf(findings)).toContain('DKIM_FAIL');
  });

  it('emits zero-weight temperror symbols, not "none", when DNS is offline', async () => {
    const input = await inputFrom(signed, {
      envelope: { mailFrom: 'alice@example.org', recipients: ['bob@example.com'], remoteIp: '192.0.2.10' },
    });
    const findings = await auth.scan(input, ctxFrom(testConfig(), offlineResolver));
    expect(symbolsOf(findings)).toEqual(['DKIM_TEMPERROR', 'DMARC_TEMPERROR', 'SPF_TEMPERROR']);
  });

  it('verifies a signature on a message stored with LF line breaks, and fails it when the body changed', async () => {
    const lf = Buffer.from(signed.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
    const envelope = {
      mailFrom: 'alice@example.org',
      recipients: ['bob@example.com'],
      remoteIp: '192.0.2.10',
    };
    const ctx = ctxFrom(testConfig(), resolver);
    expect(symbolsOf(await auth.scan(await inputFrom(lf, { envelope }), ctx))).toContain('DKIM_PASS');
    const tampered = Buffer.from(lf.toString('latin1').replace('noon', 'one'), 'latin1');
    expect(symbolsOf(await auth.scan(await inputFrom(tampered, { envelope }), ctx))).toContain('DKIM_FAIL');
  });

  it('skips SPF when the client IP is unknown', async () => {
    const input = await inputFrom(fixture('clean-plain.eml'));
    const findings = await auth.scan(input, ctxFrom(testConfig(), resolver));
    expect(symbolsOf(findings).some((s) => s.startsWith('SPF_'))).toBe(false);
  });
});

describe('mailauthLineBreaks', () => {
  const lines = (s: string) => mailauthLineBreaks(Buffer.from(s, 'latin1')).toString('latin1');

  it('puts a CR before each bare LF, as mailauth reads the message', () => {
    expect(lines('a\nb\n\nc')).toBe('a\r\nb\r\n\r\nc');
    expect(lines('\nx')).toBe('\r\nx');
  });

  it('leaves CRLF alone, and an LF whose last byte before it other than LF is a CR (mailauth does the same)', () => {
    expect(lines('a\r\nb\r\n')).toBe('a\r\nb\r\n');
    expect(lines('a\r\n\nb')).toBe('a\r\n\nb');
    expect(lines('a\rb\n')).toBe('a\rb\r\n');
  });

  it('inserts exactly the CRs of the byte-by-byte rule, on any mix of CR, LF and text', () => {
    // The rule read one byte at a time: an LF gets a CR unless the last byte before it other than LF is a CR.
    const byByte = (s: string) => {
      let last = '';
      let out = '';
      for (const c of s) {
        if (c !== '\n') last = c;
        else if (last !== '\r') out += '\r';
        out += c;
      }
      return out;
    };
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', '\r', '\n', 'bc')).map((parts) => parts.join('')),
        (s) => {
          expect(lines(s)).toBe(byByte(s));
        },
      ),
    );
  });

  it('returns the same bytes without copying when nothing changes', () => {
    const crlf = Buffer.from('a\r\nb\r\n');
    expect(mailauthLineBreaks(crlf)).toEqual(crlf);
    expect(mailauthLineBreaks(crlf).buffer).toBe(crlf.buffer);
  });
});

describe('authResultsHeader', () => {
  it('builds an RFC 8601 value from AUTH findings', () => {
    const header = authResultsHeader('mx.example.com', [
      { symbol: 'SPF_PASS', evidence: 'smtp.mailfrom=alice@example.org' },
      { symbol: 'DKIM_PASS', evidence: 'header.d=example.org header.s=sel' },
      { symbol: 'DMARC_FAIL_REJECT', evidence: 'header.from=example.org policy.dmarc=reject' },
      { symbol: 'GTUBE' },
    ]);
    expect(header).toBe(
      'mx.example.com; spf=pass smtp.mailfrom=alice@example.org; dkim=pass header.d=example.org header.s=sel; ' +
        'dmarc=fail header.from=example.org policy.dmarc=reject',
    );
  });

  it('says none when there are no authentication findings', () => {
    expect(authResultsHeader('mx.example.com', [])).toBe('mx.example.com; none');
  });

  it('leaves out a property value too long to be a domain, selector or address, so the header stays bounded', () => {
    const header = authResultsHeader('mx.example.com', [
      { symbol: 'DKIM_FAIL', evidence: `header.d=${'a'.repeat(10_000)}.example header.s=s1` },
    ]);
    expect(header).toBe('mx.example.com; dkim=fail header.s=s1');
  });

  it('drops free text and line breaks from evidence', () => {
    const header = authResultsHeader('mx.example.com', [
      { symbol: 'ARC_FAIL', evidence: 'broken\r\nX-Evil: 1; seal' },
    ]);
    expect(header).toBe('mx.example.com; arc=fail');
  });
});
