// Test helper: synthesizes SegStack from a config object without bundling the Lambda code
// (`aws:cdk:bundling-stacks` = []), so infra tests run in seconds. Not a test file itself.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll } from 'vitest';
import { parseConfig } from '../../lambdas/config/load-config.ts';
import type { SegConfig } from '../../lambdas/config/schema.ts';
import { SegStack, type SegStackProps } from '../../lib/seg-stack.ts';

/** The smallest valid config: one domain, defaults for the rest. Override fields as needed. */
export function testConfig(overrides: Record<string, unknown> = {}): SegConfig {
  return parseConfig({
    region: 'us-east-1',
    domains: [
      {
        name: 'example.com',
        route: { host: 'mail.example.com', port: 587, authSecretName: 'seg/smtp/example.com' },
      },
    ],
    ...overrides,
  });
}

// Without an outdir, CDK writes every synthesized app to a new cdk.out folder in the temp dir and never
// removes it (a few MB each, a hundred per test run). The test file's apps write under one folder,
// removed when its tests are done.
const outRoot = mkdtempSync(join(tmpdir(), 'seg-test-cdk-'));
afterAll(() => rmSync(outRoot, { recursive: true, force: true }));
let apps = 0;

/** An App that skips asset bundling and writes under this test file's temporary folder. */
export function testApp(): App {
  return new App({ outdir: join(outRoot, String(apps++)), context: { 'aws:cdk:bundling-stacks': [] } });
}

/** Builds the stack (not yet synthesized) under a test app. */
export function buildStack(config: SegConfig = testConfig(), props: Partial<SegStackProps> = {}): SegStack {
  return new SegStack(testApp(), 'SegTest', { config, env: { account: '123456789012' }, ...props });
}

/** Synthesizes the stack for `config` and returns its template. */
export function synthTemplate(
  config: SegConfig = testConfig(),
  props: Partial<SegStackProps> = {},
): Template {
  return Template.fromStack(buildStack(config, props));
}
