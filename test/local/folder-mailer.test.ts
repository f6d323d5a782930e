import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FolderMailer } from '../../lambdas/adapters/local/folder-mailer.ts';

describe('FolderMailer', () => {
  let folder: string;
  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'seg-folder-'));
  });
  afterEach(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('writes one byte-identical .eml per recipient, named by the gateway message id', async () => {
    const raw = Buffer.from(
      'X-SEG-Verdict: deliver\r\nReceived: from a (1.2.3.4 [1.2.3.4])\r\n by gw with SMTP id abc123 for x@example.com;\r\n Sat, 28 Nov 2026 10:00:00 +0000\r\nSubject: hi\r\n\r\nbody\r\n',
    );
    const mailer = new FolderMailer(join(folder, 'delivered'));
    const result = await mailer.send({
      envelope: { mailFrom: 'a@sender.test', recipients: ['x@example.com', 'Y@example.com'] },
      raw: new Uint8Array(raw),
      domain: 'example.com',
    });
    expect(result.response).toMatch(/^250 /);
    const files = (await readdir(join(folder, 'delivered'))).sort();
    expect(files).toEqual(['abc123-x@example.com.eml', 'abc123-y@example.com.eml']);
    expect(await readFile(join(folder, 'delivered', files[0]!))).toEqual(raw);
  });

  it('keeps path separators out of file names', async () => {
    const mailer = new FolderMailer(folder);
    await mailer.send({
      envelope: { mailFrom: '', recipients: ['../../evil@example.com'] },
      raw: new Uint8Array(Buffer.from('Received: from a (b [1.1.1.1]) by c with SMTP id id1;\r\n\r\nx')),
      domain: 'example.com',
    });
    expect(await readdir(folder)).toEqual(['id1-..%2F..%2Fevil@example.com.eml']);
  });

  it('gives recipients whose addresses differ only in unsafe characters files of their own', async () => {
    const mailer = new FolderMailer(folder);
    const recipients = ['a!b@example.com', 'a#b@example.com', 'a_b@example.com', 'a%21b@example.com'];
    for (const r of recipients) {
      await mailer.send({
        envelope: { mailFrom: '', recipients: [r] },
        raw: new Uint8Array(Buffer.from(`Received: from a (b [1.1.1.1]) by c with SMTP id id2;\r\n\r\n${r}`)),
        domain: 'example.com',
      });
    }
    const files = await readdir(folder);
    expect(files).toHaveLength(4);
    const bodies = await Promise.all(files.map((f) => readFile(join(folder, f), 'latin1')));
    expect(bodies.map((b) => b.slice(b.indexOf('\r\n\r\n') + 4)).sort()).toEqual([...recipients].sort());
  });
});
