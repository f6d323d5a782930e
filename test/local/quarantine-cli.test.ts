// `seg quarantine` when no `seg serve` runs: the command opens the data folder's embedded stores itself,
// lists and shows what the stopped gateway quarantined, releases it through the same release handler
// (into the delivered/ folder) and deletes.

import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { quarantineCommand } from '../../bin/commands/quarantine.ts';
import { parseConfig } from '../../lambdas/config/load-config.ts';
import { offlineResolver } from '../../lambdas/engine/scan-message.ts';
import { UNCONFIRMED_REASON } from '../../lambdas/handlers/unconfirmed.ts';
import { endpointsFile } from '../../lambdas/local/embedded-aws.ts';
import { startLocalGateway } from '../../lambdas/local/gateway.ts';
import type { QuarantineItem } from '../../lambdas/ports/index.ts';
import { captureStdout } from '../e2e/helpers.ts';
import { withLocalTables } from '../support/local-tables.ts';

describe('seg quarantine without a running seg serve', () => {
  let dataDir: string;
  let configFile: string;
  let messageId: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'seg-cli-'));
    const json = {
      domains: [{ name: 'example.com', route: { host: 'mail.example.com', port: 587 } }],
      local: { dataDir },
    };
    configFile = join(dataDir, 'seg.config.json');
    await writeFile(configFile, JSON.stringify(json));
    const gateway = await startLocalGateway({
      config: parseConfig(json),
      smtpPort: 0,
      resolver: offlineResolver,
      reconcileIntervalMs: false,
      log: () => undefined,
    });
    try {
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port: gateway.smtp.port,
        ignoreTLS: true,
      });
      const raw = await readFile(join(import.meta.dirname, '../fixtures/e2e/gtube.eml'));
      const info = await transport.sendMail({
        envelope: { from: 'alice@sender.test', to: ['carol@example.com'] },
        raw,
      });
      transport.close();
      messageId = /queued as ([a-z0-9]+)/.exec(info.response)?.[1] ?? '';
      await gateway.drain();
    } finally {
      await gateway.close();
    }
  });

  afterAll(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('leaves no endpoints file once serve has stopped', () => {
    expect(existsSync(endpointsFile(dataDir))).toBe(false);
  });

  it('lists the quarantined message as JSON', async () => {
    const { result, stdout } = await captureStdout(() =>
      quarantineCommand('list', { json: true, config: configFile }),
    );
    expect(result).toBe(0);
    const items = JSON.parse(stdout) as QuarantineItem[];
    expect(items.map((i) => [i.messageId, i.recipient, i.status])).toEqual([
      [messageId, 'carol@example.com', 'QUARANTINED'],
    ]);
  });

  it('prints a table naming the message by default', async () => {
    const { result, stdout } = await captureStdout(() => quarantineCommand('list', { dataDir }));
    expect(result).toBe(0);
    expect(stdout).toMatch(/^RECEIVED\s+MESSAGE ID/);
    expect(stdout).toContain(messageId);
  });

  it('shows the item with its verdict trace', async () => {
    const { result, stdout } = await captureStdout(() =>
      quarantineCommand('show', { messageId, json: true, config: configFile }),
    );
    expect(result).toBe(0);
    const shown = JSON.parse(stdout) as {
      items: QuarantineItem[];
      trace: { verdict: { symbols: string[] } };
    };
    expect(shown.items).toHaveLength(1);
    expect(shown.trace.verdict.symbols).toContain('GTUBE');
  });

  it('fails with exit code 1 for an unknown message and 2 for a bad status', async () => {
    expect(
      (await captureStdout(() => quarantineCommand('show', { messageId: 'nosuchid', dataDir }))).result,
    ).toBe(1);
    expect((await captureStdout(() => quarantineCommand('list', { status: 'LOST', dataDir }))).result).toBe(
      2,
    );
  });

  it('releases the message into the delivered folder through the release handler', async () => {
    const { result } = await captureStdout(() =>
      quarantineCommand('release', { messageId, recipient: 'carol@example.com', config: configFile }),
    );
    expect(result).toBe(0);
    const files = await readdir(join(dataDir, 'delivered'));
    expect(files).toEqual([`${messageId}-carol@example.com.eml`]);
    const again = await captureStdout(() =>
      quarantineCommand('release', { messageId, recipient: 'carol@example.com', config: configFile }),
    );
    expect(again.result).toBe(1);
    expect(await readdir(join(dataDir, 'delivered'))).toHaveLength(1);
  });

  it('refuses to delete the released message, keeping its history', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const { result } = await captureStdout(() =>
        quarantineCommand('delete', { messageId, config: configFile }),
      );
      expect(result).toBe(1);
      expect(String(stderr.mock.calls.flat()[0])).toContain('RELEASED');
    } finally {
      stderr.mockRestore();
    }
    const { stdout } = await captureStdout(() =>
      quarantineCommand('list', { json: true, status: 'RELEASED', config: configFile }),
    );
    expect((JSON.parse(stdout) as QuarantineItem[]).map((i) => i.messageId)).toEqual([messageId]);
  });

  it('points at unconfirmed deliveries from the default list, and releases one only with --force', async () => {
    // An unconfirmed delivery as deliver records it (the handlers' tests produce it for real).
    await withLocalTables(dataDir, async ({ quarantine }) => {
      const released = await quarantine.get(messageId, 'carol@example.com');
      await quarantine.put({
        ...(released as QuarantineItem),
        recipient: 'dave@example.com',
        status: 'UNCONFIRMED',
        reason: UNCONFIRMED_REASON,
      });
    });
    const listed = await captureStdout(() => quarantineCommand('list', { dataDir }));
    expect(listed.stdout).toMatch(/1 delivery was sent without a reply \(UNCONFIRMED\)/);

    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const unforced = await captureStdout(() =>
        quarantineCommand('release', { messageId, recipient: 'dave@example.com', config: configFile }),
      );
      expect(unforced.result).toBe(1);
      expect(unforced.stdout).toMatch(/--force/);
    } finally {
      stderr.mockRestore();
    }
    const forced = await captureStdout(() =>
      quarantineCommand('release', {
        messageId,
        recipient: 'dave@example.com',
        force: true,
        config: configFile,
      }),
    );
    expect(forced.result, forced.stdout).toBe(0);
    expect((await readdir(join(dataDir, 'delivered'))).sort()).toEqual([
      `${messageId}-carol@example.com.eml`,
      `${messageId}-dave@example.com.eml`,
    ]);
  });
});
