// Golden verdicts: small .eml fixtures in, expected action and symbols out, with DNS offline
// (auth yields zero-weight temperror symbols) unless a case brings its own zone.
import { generateKeyPairSync } from 'node:crypto';
import { dkimSign } from 'mailauth';
import { describe, expect, it } from 'vitest';
import { scanMessage } from '../../lambdas/engine/scan-message.ts';
import { GTUBE_STRING } from '../../lambdas/engine/scanners/gtube.ts';
import type { Action } from '../../lambdas/engine/types.ts';
import { eml, fixture, testConfig, zoneResolver } from './helpers.ts';

interface Golden {
  readonly file: string;
  readonly config?: Record<string, unknown>;
  readonly action: Action;
  readonly symbols: readonly string[];
}

const OFFLINE_AUTH = ['DKIM_NONE', 'DMARC_TEMPERROR'];
const GOLDEN: readonly Golden[] = [
  { file: 'clean-plain.eml', action: 'deliver', symbols: OFFLINE_AUTH },
  {
    file: 'attachment-exe-in-zip.eml',
    action: 'quarantine',
    symbols: ['ATTACHMENT_DOUBLE_EXTENSION', 'ATTACHMENT_EXECUTABLE', ...OFFLINE_AUTH],
  },
  { file: 'gtube-in-body.eml', action: 'reject', symbols: ['GTUBE', ...OFFLINE_AUTH] },
  {
    file: 'phish-href-mismatch.eml',
    action: 'quarantine',
    symbols: [
      'CLASSIFIER_PHISH_999',
      'CONTENT_BRAND_IMPERSONATION',
      'CONTENT_GREETS_ADDRESS',
      'CONTENT_HTML_ONLY',
      'CONTENT_URGENCY',
      'URL_HREF_TEXT_MISMATCH',
      ...OFFLINE_AUTH,
    ],
  },
  {
    file: 'blocked-sender.eml',
    config: { lists: { block: ['blocked.example'] } },
    action: 'quarantine',
    symbols: ['LIST_SENDER_BLOCKED', ...OFFLINE_AUTH],
  },
  {
    file: 'allowed-sender-gtube.eml',
    config: { lists: { allow: ['partner.example'] } },
    action: 'reject',
    symbols: ['GTUBE', 'LIST_SENDER_ALLOWED', ...OFFLINE_AUTH],
  },
  {
    file: 'spam-phrases.eml',
    action: 'quarantine',
    symbols: ['CLASSIFIER_SPAM_999', 'CONTENT_SPAM_PHRASES', 'CONTENT_SUBJECT_ALL_CAPS', ...OFFLINE_AUTH],
  },
  {
    file: 'urls-suspicious.eml',
    action: 'quarantine',
    symbols: [
      // The classifier calls a message of bare links to a raw IP and a shortener spam (its phish head
      // is near even, 0.45): the URL symbols carry the phishing evidence.
      'CLASSIFIER_SPAM_80',
      'URL_CREDENTIALS',
      'URL_IP_HOST',
      'URL_LOOKALIKE_BRAND',
      'URL_PUNYCODE',
      'URL_SHORTENER',
      'URL_SUSPICIOUS_TLD',
      ...OFFLINE_AUTH,
    ],
  },
  { file: 'mime-missing-boundary.eml', action: 'deliver', symbols: ['MIME_MALFORMED', ...OFFLINE_AUTH] },
  { file: 'mime-broken-base64.eml', action: 'deliver', symbols: ['MIME_UNREADABLE_PART', ...OFFLINE_AUTH] },
];

describe('golden verdicts', () => {
  it.each(GOLDEN)('gives $file the action $action', async ({ file, config, action, symbols }) => {
    const { verdict } = await scanMessage(fixture(file), { config: testConfig(config) });
    expect(verdict.action).toBe(action);
    expect([...verdict.symbols].sort()).toEqual([...symbols].sort());
  });

  it('delivers a DKIM-signed message from an SPF-authorized host with pass symbols', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const message = fixture('clean-plain.eml');
    const { signatures } = await dkimSign(message, {
      // Without a sign time mailauth reads the clock twice (for the signed header and for the one it
      // writes out): a second ticking between them gives a signature that does not verify.
      signTime: new Date(),
      signatureData: [
        {
          signingDomain: 'example.org',
          selector: 'golden',
          privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        },
      ],
    } as never);
    const resolver = zoneResolver({
      'example.org': { TXT: [['v=spf1 ip4:192.0.2.10 -all']] },
      '_dmarc.example.org': { TXT: [['v=DMARC1; p=reject']] },
      'golden._domainkey.example.org': {
        TXT: [[`v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`]],
      },
    });
    const { verdict } = await scanMessage(Buffer.concat([Buffer.from(signatures), message]), {
      config: testConfig(),
      resolver,
      envelope: { mailFrom: 'alice@example.org', recipients: ['bob@example.com'], remoteIp: '192.0.2.10' },
    });
    expect(verdict.action).toBe('deliver');
    expect(verdict.score).toBe(-2);
    expect(verdict.symbols).toEqual(['DKIM_PASS', 'SPF_PASS', 'DMARC_PASS']);
  });

  it('quarantines with SES_VIRUS_FAIL from the receipt verdicts', async () => {
    const { verdict } = await scanMessage(fixture('clean-plain.eml'), {
      config: testConfig(),
      ses: { virus: 'FAIL', spam: 'PASS' },
    });
    expect(verdict.action).toBe('quarantine');
    expect(verdict.symbols[0]).toBe('SES_VIRUS_FAIL');
  });
});

describe('padding never makes a message look cleaner (issue 7)', () => {
  const RANK = { deliver: 0, tag: 1, quarantine: 2, reject: 3 } as const;

  it('does not deliver GTUBE after 2.1 MB of padding', async () => {
    const body = `${'padding line of harmless text\n'.repeat(72_000)}${GTUBE_STRING}\n`;
    const raw = Buffer.from(eml({ From: 'a@example.org', Subject: 'padded' }, body));
    expect(raw.length).toBeGreaterThan(2_100_000);
    const { verdict } = await scanMessage(raw, { config: testConfig() });
    expect(verdict.action).not.toBe('deliver');
    expect(verdict.symbols).toContain('GTUBE');
  });

  it('catches a phishing message after 1,001 harmless URLs as it does without them', async () => {
    const phish = fixture('phish-href-mismatch.eml').toString('latin1');
    const harmless = Array.from(
      { length: 1001 },
      (_, i) => `<a href="https://www.example.org/${i}">${i}</a>`,
    );
    const padded = phish.replace('<html><body>', `<html><body>${harmless.join('\n')}`);
    const alone = await scanMessage(Buffer.from(phish, 'latin1'), { config: testConfig() });
    const { verdict } = await scanMessage(Buffer.from(padded, 'latin1'), { config: testConfig() });
    expect(alone.verdict.action).not.toBe('deliver');
    expect(RANK[verdict.action]).toBeGreaterThanOrEqual(RANK[alone.verdict.action]);
    expect(verdict.symbols).toContain('URL_HREF_TEXT_MISMATCH');
  });
});
