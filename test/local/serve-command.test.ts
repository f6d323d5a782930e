import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { serveCommand } from '../../bin/commands/serve.ts';
import { ConfigError } from '../../lambdas/config/load-config.ts';
import { endpointsFile, readRunningEndpoints } from '../../lambdas/local/embedded-aws.ts';

describe('serveCommand', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'seg-serve-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('fails before starting anything when the config is invalid, listing every problem', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(
      file,
      JSON.stringify({ domains: [{ name: 'Not A Domain', route: { host: 'x' } }], extra: 1 }),
    );
    const error = await serveCommand({ config: file, dataDir: join(dir, 'unused') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.length).toBeGreaterThanOrEqual(2);
    expect(existsSync(join(dir, 'unused'))).toBe(false);
  });

  it('runs until SIGTERM, publishing its endpoints, then stops cleanly', async () => {
    const file = join(dir, 'seg.config.json');
    const dataDir = join(dir, 'data');
    await writeFile(
      file,
      JSON.stringify({
        domains: [{ name: 'example.com', route: { host: 'mail.example.com' } }],
        local: { smtpPort: 0 },
      }),
    );
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      const serving = serveCommand({ config: file, dataDir });
      // Bounded wait for startup: the endpoints file appears once every server listens.
      for (let i = 0; i < 200 && !(await readRunningEndpoints(dataDir)); i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(await readRunningEndpoints(dataDir)).toBeDefined();
      expect(log.mock.calls.flat().join('\n')).toContain(`data folder     ${dataDir}`);
      process.emit('SIGTERM', 'SIGTERM');
      await serving;
      expect(existsSync(endpointsFile(dataDir))).toBe(false);
    } finally {
      log.mockRestore();
    }
  });
});
