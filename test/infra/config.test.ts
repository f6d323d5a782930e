import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lambdas/config/load-config.ts';
import { SES_RECEIVING_REGIONS, UnsupportedRegionError } from '../../lib/ses-regions.ts';
import { buildStack, testConfig } from './synth.ts';

const run = promisify(execFile);

describe('synth-time checks', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'seg-cdk-out-'));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('refuses a region without SES receiving', () => {
    expect(() => buildStack(testConfig({ region: 'ap-east-1' }))).toThrow(UnsupportedRegionError);
    expect(() => buildStack(testConfig({ region: 'ap-east-1' }))).toThrow(
      /ap-east-1 does not offer SES email receiving/,
    );
  });

  it('accepts every listed receiving region', () => {
    for (const region of SES_RECEIVING_REGIONS) {
      expect(buildStack(testConfig({ region })).region).toBe(region);
    }
  });

  it('builds the stack from seg.config.example.json', () => {
    const stack = buildStack(loadConfig('seg.config.example.json'));
    expect(stack.region).toBe('us-east-1');
  });

  it('fails synth listing every config problem', async () => {
    const failure = await run('npx', ['tsx', 'bin/app.ts'], {
      env: {
        ...process.env,
        CDK_OUTDIR: outdir,
        CDK_CONTEXT_JSON: JSON.stringify({ config: 'test/fixtures/infra/config-with-three-problems.json' }),
      },
    }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toMatch(
      /invalid configuration in test\/fixtures\/infra\/config-with-three-problems\.json/,
    );
    expect(failure?.stderr).toMatch(/domains\.0\.name: must be a lowercase domain name/);
    expect(failure?.stderr).toMatch(/domains\.0\.route\.port: port 25 needs `vpc`/);
    expect(failure?.stderr).toMatch(/domains\.1\.route\.host:/);
  });
});
