// The Lambda entry files: one per function, each building its adapters from the environment at
// module scope (no AWS call at import), and failing fast when a setting it needs is missing.

import { readdirSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { awsDeps } from '../../lambdas/adapters/aws/deps.ts';
import { ENV } from '../../lambdas/handlers/deps.ts';

const FUNCTIONS = [
  'decide',
  'deliver',
  'ingest',
  'parse',
  'quarantine',
  'reconcile',
  'release',
  'scan-attachments',
  'scan-auth',
  'scan-content',
  'scan-lists',
];

const ENVIRONMENT = {
  [ENV.bucket]: 'bucket',
  [ENV.quarantineTable]: 'quarantine',
  [ENV.ledgerTable]: 'ledger',
  [ENV.stateMachineArn]: 'arn:aws:states:us-east-1:123456789012:stateMachine:seg',
  [ENV.ingestFailureQueueUrl]: 'https://sqs.us-east-1.amazonaws.com/123456789012/seg-ingest-failures',
  [ENV.configJson]: JSON.stringify({
    domains: [{ name: 'example.com', route: { host: 'mail.example.com' } }],
  }),
  AWS_REGION: 'us-east-1',
};

const saved = { ...process.env };
beforeEach(() => Object.assign(process.env, ENVIRONMENT));
afterEach(() => {
  for (const key of Object.keys(ENVIRONMENT)) delete process.env[key];
  Object.assign(process.env, saved);
});

describe('lambdas/functions', () => {
  it('has exactly one entry file per function', () => {
    const files = readdirSync(new URL('../../lambdas/functions/', import.meta.url)).filter((f) =>
      f.endsWith('.ts'),
    );
    expect(files.map((f) => f.replace(/\.ts$/, '')).sort()).toEqual(FUNCTIONS);
  });

  it.each(FUNCTIONS)('%s exports a handler built at import', async (name) => {
    const entry = (await import(`../../lambdas/functions/${name}.ts`)) as { handler: unknown };
    expect(typeof entry.handler).toBe('function');
  });
});

describe('awsDeps', () => {
  it('builds only the deps asked for', () => {
    const deps = awsDeps(['store', 'bucket'], ENVIRONMENT);
    expect(Object.keys(deps).sort()).toEqual([
      'bucket',
      'clock',
      'config',
      'logger',
      'metrics',
      'resolver',
      'store',
    ]);
    expect(deps.config.domains[0]?.route.port).toBe(587);
  });

  it('names the missing environment variable', () => {
    const { [ENV.ledgerTable]: _dropped, ...env } = ENVIRONMENT;
    expect(() => awsDeps(['ledger'], env)).toThrow(`environment variable ${ENV.ledgerTable} is not set`);
  });

  it('fails on an invalid inlined config with every problem listed', () => {
    expect(() => awsDeps(['store'], { ...ENVIRONMENT, [ENV.configJson]: '{"domains":[]}' })).toThrow(
      /domains/,
    );
  });
});
