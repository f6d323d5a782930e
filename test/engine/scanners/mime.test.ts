import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, parseMessage } from '../../../lambdas/engine/parse.ts';
import { mime } from '../../../lambdas/engine/scanners/mime.ts';
import { ctxFrom, eml, fixture, inputFrom } from '../helpers.ts';

const symbols = async (raw: string | Buffer) =>
  (await mime.scan(await inputFrom(raw), ctxFrom())).map((f) => f.symbol).sort();

describe('mime scanner', () => {
  it('emits nothing for a clean message', async () => {
    expect(await symbols(fixture('clean-plain.eml'))).toEqual([]);
  });

  it('emits MIME_MALFORMED for a multipart without its boundary', async () => {
    expect(await symbols(fixture('mime-missing-boundary.eml'))).toEqual(['MIME_MALFORMED']);
  });

  it('emits MIME_UNREADABLE_PART for broken base64', async () => {
    expect(await symbols(fixture('mime-broken-base64.eml'))).toEqual(['MIME_UNREADABLE_PART']);
  });

  it('emits MIME_OVERSIZED for a message larger than maxMessageBytes', async () => {
    const raw = Buffer.from(eml({ From: 'a@example.org', Subject: 'big' }, 'z'.repeat(4096)));
    const parsed = await parseMessage(raw, { ...DEFAULT_LIMITS, maxMessageBytes: 1024 });
    const found = await mime.scan({ raw, parsed, envelope: { mailFrom: '', recipients: [] } }, ctxFrom());
    expect(found.map((f) => f.symbol)).toEqual(['MIME_OVERSIZED']);
  });

  it('emits MIME_TRUNCATED when a part limit cut the message', async () => {
    const parts = Array.from(
      { length: 10 },
      (_, i) => `--b\r\nContent-Type: text/plain\r\n\r\np${i}\r\n`,
    ).join('');
    const raw = Buffer.from(
      `From: a@example.org\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n${parts}--b--\r\n`,
    );
    const parsed = await parseMessage(raw, { ...DEFAULT_LIMITS, maxParts: 3 });
    const found = await mime.scan({ raw, parsed, envelope: { mailFrom: '', recipients: [] } }, ctxFrom());
    expect(found.map((f) => f.symbol)).toEqual(['MIME_TRUNCATED']);
  });
});
