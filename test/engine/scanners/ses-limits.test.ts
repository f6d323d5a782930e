import { describe, expect, it } from 'vitest';
import { SES_MAX_MESSAGE_BYTES, sesLimits } from '../../../lambdas/engine/scanners/ses-limits.ts';
import { ctxFrom, eml, inputFrom, testConfig } from '../helpers.ts';

describe('ses-limits scanner', () => {
  it('emits nothing when From is in a protected domain and nothing else is out of bounds', async () => {
    const input = await inputFrom(eml({ From: 'Alice <alice@example.com>', Subject: 'hi' }, 'hello'));
    expect(await sesLimits.scan(input, ctxFrom())).toEqual([]);
  });

  it('emits OUTBOUND_SES_LIMIT when From, Sender or Return-Path is not a verified identity', async () => {
    const raw = eml(
      { From: 'alice@example.com', Sender: 'bot@other.example', 'Return-Path': '<b@bounce.example.com>' },
      'x',
    );
    const findings = await sesLimits.scan(await inputFrom(raw), ctxFrom());
    expect(findings).toEqual([
      { symbol: 'OUTBOUND_SES_LIMIT', evidence: 'sender bot@other.example is not a verified SES identity' },
    ]);
  });

  it('uses outbound.identities when configured (an address identity verifies that address only)', async () => {
    const config = testConfig({ outbound: { identities: ['news@example.com'] } });
    const ok = await sesLimits.scan(await inputFrom(eml({ From: 'news@example.com' }, 'x')), ctxFrom(config));
    const no = await sesLimits.scan(
      await inputFrom(eml({ From: 'alice@example.com' }, 'x')),
      ctxFrom(config),
    );
    expect([ok.length, no.map((f) => f.evidence)]).toEqual([
      0,
      ['from alice@example.com is not a verified SES identity'],
    ]);
  });

  it('emits OUTBOUND_SES_LIMIT for an attachment type SES refuses', async () => {
    const raw = [
      'From: alice@example.com',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b"',
      '',
      '--b',
      'Content-Type: text/plain',
      '',
      'see attached',
      '--b',
      'Content-Type: application/octet-stream; name="setup.exe"',
      'Content-Disposition: attachment; filename="setup.exe"',
      'Content-Transfer-Encoding: base64',
      '',
      'TVqQAAMAAAAEAAAA',
      '--b--',
      '',
    ].join('\r\n');
    expect((await sesLimits.scan(await inputFrom(raw), ctxFrom())).map((f) => f.evidence)).toEqual([
      'attachment setup.exe: SES does not send .exe files',
    ]);
  });

  it('emits OUTBOUND_SES_LIMIT for a message over 40 MB', async () => {
    const input = await inputFrom(eml({ From: 'alice@example.com' }, 'x'));
    const big = { ...input, raw: new Uint8Array(SES_MAX_MESSAGE_BYTES + 1) };
    expect((await sesLimits.scan(big, ctxFrom())).map((f) => f.symbol)).toEqual(['OUTBOUND_SES_LIMIT']);
  });
});
