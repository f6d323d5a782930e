import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { feedsCommand } from '../../bin/commands/feeds.ts';
import { scanCommand } from '../../bin/commands/scan.ts';

const dir = mkdtempSync(join(tmpdir(), 'seg-feeds-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function output(fn: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const o = vi
    .spyOn(process.stdout, 'write')
    .mockImplementation((c: string | Uint8Array) => out.push(String(c)) > 0);
  const e = vi
    .spyOn(process.stderr, 'write')
    .mockImplementation((c: string | Uint8Array) => err.push(String(c)) > 0);
  try {
    return { code: await fn(), out: out.join(''), err: err.join('') };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('seg feeds', () => {
  it('imports valid entries from a local file and skips the rest', async () => {
    const list = join(dir, 'bad-list.txt');
    writeFileSync(
      list,
      '# known bad\nphish-kit.test\nhttps://files.example.org/invoice.html#x\nnot a domain\n',
    );
    const feeds = join(dir, 'feeds');
    const { code, out } = await output(() => feedsCommand('update', { file: list, dir: feeds }));
    expect(code).toBe(0);
    expect(out).toBe(`imported 2 entries into ${join(feeds, 'bad-list.txt')} (1 lines skipped)\n`);
    expect(readFileSync(join(feeds, 'bad-list.txt'), 'utf8')).toBe(
      'https://files.example.org/invoice.html\nphish-kit.test\n',
    );
  });

  it('makes seg scan flag a link the feed lists, through the config feedsDir', async () => {
    const feeds = join(dir, 'scan-feeds');
    const list = join(dir, 'scan-list.txt');
    writeFileSync(list, 'phish-kit.test\n');
    await output(() => feedsCommand('update', { file: list, dir: feeds }));
    const config = join(dir, 'seg.config.json');
    writeFileSync(
      config,
      JSON.stringify({
        domains: [{ name: 'example.com', route: { host: '127.0.0.1' } }],
        detection: { feedsDir: feeds },
      }),
    );
    const message = join(dir, 'm.eml');
    writeFileSync(message, 'From: a@example.org\r\nSubject: s\r\n\r\nsee https://login.phish-kit.test/x\r\n');
    const { out } = await output(() => scanCommand([message], { json: true, config }));
    expect(JSON.parse(out).symbols).toContain('URL_FEED_LISTED');
  });

  it('refuses with a clear error when there is no feeds folder or no file', async () => {
    const none = await output(() => feedsCommand('update', { file: join(dir, 'x.txt') }));
    expect(none).toMatchObject({ code: 1, err: expect.stringContaining('no feeds folder') });
    const missing = await output(() => feedsCommand('update', { file: join(dir, 'absent.txt'), dir }));
    expect(missing).toMatchObject({ code: 1, err: expect.stringContaining('is not a readable file') });
  });
});
