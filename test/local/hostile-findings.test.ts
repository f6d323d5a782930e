// Regression tests for the smaller findings of the hostile test of `seg serve` (issue 7 items 6-10):
// recipient limit, postmaster, the percent hack, connection and DATA-time limits, terminal-safe output,
// message id validation, delete keeping history, a config file with a BOM, and one-line start errors.

import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { printable, quarantineCommand } from '../../bin/commands/quarantine.ts';
import { loadConfig, parseConfig } from '../../lambdas/config/load-config.ts';
import { offlineResolver } from '../../lambdas/engine/scan-message.ts';
import { type LocalGateway, startLocalGateway } from '../../lambdas/local/gateway.ts';

const SEG = join(import.meta.dirname, '../../bin/seg.mjs');

/** A raw SMTP dialogue: sends each line after the previous reply and returns every reply. */
async function dialogue(port: number, lines: string[]): Promise<string[]> {
  const socket = connect(port, '127.0.0.1');
  const replies: string[] = [];
  let buffer = '';
  const next = () =>
    new Promise<string>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        buffer += chunk.toString('latin1');
        const m = /^(\d{3}) [^\r\n]*\r\n/m.exec(buffer);
        if (m) {
          socket.off('data', onData);
          const end = buffer.indexOf(m[0]) + m[0].length;
          const reply = buffer.slice(0, end);
          buffer = buffer.slice(end);
          resolve(reply.trim());
        }
      };
      socket.on('data', onData);
      socket.once('error', reject);
      socket.once('close', () => resolve('(closed)'));
    });
  replies.push(await next());
  for (const line of lines) {
    socket.write(`${line}\r\n`);
    replies.push(await next());
  }
  socket.destroy();
  return replies;
}

describe('the local listener under hostile use', () => {
  let dataDir: string;
  let gateway: LocalGateway;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'seg-hostile-'));
    gateway = await startLocalGateway({
      config: parseConfig({
        domains: [{ name: 'example.com', route: { host: 'mail.example.com', port: 587 }, recipients: [] }],
        limits: { maxRecipients: 3, maxConnections: 3, maxDataSeconds: 1 },
      }),
      dataDir,
      smtpPort: 0,
      retryIntervalMs: 0,
      resolver: offlineResolver,
      reconcileIntervalMs: false,
      log: () => undefined,
    });
  });

  afterAll(async () => {
    await gateway?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('accepts postmaster (bare and at a domain whose recipients list is empty) and refuses others and the % hack', async () => {
    const replies = await dialogue(gateway.smtp.port, [
      'EHLO client.test',
      'MAIL FROM:<a@sender.test>',
      'RCPT TO:<postmaster>',
      'RCPT TO:<PostMaster@example.com>',
      'RCPT TO:<bob@example.com>',
      'RCPT TO:<user%other.test@example.com>',
    ]);
    expect(replies.slice(3).map((r) => r.slice(0, 3))).toEqual(['250', '250', '550', '550']);
    expect(replies[6]).toContain('% routing');
  });

  it('answers 452 past the recipient limit', async () => {
    const replies = await dialogue(gateway.smtp.port, [
      'EHLO client.test',
      'MAIL FROM:<a@sender.test>',
      ...['postmaster', 'postmaster@example.com', 'postmaster', 'postmaster'].map((r) => `RCPT TO:<${r}>`),
    ]);
    expect(replies.slice(3).map((r) => r.slice(0, 3))).toEqual(['250', '250', '250', '452']);
  });

  it('closes a DATA that trickles past the total DATA time with 421', async () => {
    const socket = connect(gateway.smtp.port, '127.0.0.1');
    let text = '';
    socket.on('data', (c: Buffer) => {
      text += c.toString('latin1');
    });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    for (let i = 0; i < 100 && !text.includes('220'); i++) await new Promise((r) => setTimeout(r, 20));
    for (const line of ['EHLO c', 'MAIL FROM:<a@sender.test>', 'RCPT TO:<postmaster@example.com>', 'DATA']) {
      const before = text.length;
      socket.write(`${line}\r\n`);
      for (let i = 0; i < 100 && text.length === before; i++) await new Promise((r) => setTimeout(r, 20));
    }
    expect(text).toMatch(/354/);
    // One byte every 300 ms: each resets the idle timeout, none ends the message.
    const trickle = setInterval(() => socket.write('x'), 300);
    await closed;
    clearInterval(trickle);
    expect(text).toMatch(/421 4\.4\.2/);
  });

  it('refuses connections past the limit with 421', async () => {
    const sockets = Array.from({ length: 3 }, () => connect(gateway.smtp.port, '127.0.0.1'));
    await new Promise((r) => setTimeout(r, 300));
    const replies = await dialogue(gateway.smtp.port, []);
    for (const s of sockets) s.destroy();
    expect(replies[0]).toMatch(/^421/);
  });
});

describe('seg quarantine on hostile data', () => {
  it('shows control characters escaped, so a Subject cannot move the cursor or forge a row', () => {
    expect(printable('Hi\u001b[2J\r\nforged row\u0007')).toBe('Hi\\x1b[2J\\x0d\\x0aforged row\\x07');
  });

  it('rejects a message id that is a path or too long with a usage error', async () => {
    const errors: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      errors.push(String(chunk));
      return true;
    });
    try {
      expect(await quarantineCommand('show', { messageId: 'A/../B', dataDir: '/nonexistent' })).toBe(2);
      expect(await quarantineCommand('show', { messageId: 'a'.repeat(1_100), dataDir: '/nonexistent' })).toBe(
        2,
      );
    } finally {
      spy.mockRestore();
    }
    expect(errors.join('')).toContain('not a message id');
  });
});

describe('start-up and configuration', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'seg-args-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts a config file that starts with a UTF-8 byte order mark', async () => {
    const file = join(dir, 'bom.json');
    await writeFile(
      file,
      `\uFEFF${JSON.stringify({ domains: [{ name: 'example.com', route: { host: 'mail.example.com' } }] })}`,
    );
    expect(loadConfig(file).domains[0]?.name).toBe('example.com');
  });

  it('prints one line, no stack, for `serve --port abc` and a --data-dir that is a file', async () => {
    const run = (args: string[]) =>
      promisify(execFile)(process.execPath, [SEG, 'serve', ...args]).then(
        (ok) => ({ ...ok, code: 0 }),
        (e: { stderr: string; code: number }) => e,
      );
    const port = await run(['--port', 'abc']);
    expect(port.code).not.toBe(0);
    // One error line (then commander's usage), no stack trace.
    expect(port.stderr.split('\n')[0]).toContain("argument 'abc' is invalid");
    expect(port.stderr).not.toMatch(/\n\s+at /);

    const file = join(dir, 'a-file');
    await writeFile(file, 'not a folder');
    const config = join(dir, 'c.json');
    await writeFile(
      config,
      JSON.stringify({ domains: [{ name: 'example.com', route: { host: 'mail.example.com' } }] }),
    );
    const dataDir = await run(['-c', config, '--data-dir', file, '--port', '0']);
    expect(dataDir.code).not.toBe(0);
    expect(dataDir.stderr.trim().split('\n')).toHaveLength(1);
    expect(dataDir.stderr).toContain('is not a folder');
  }, 60_000);
});
