// The Lambda entry files: one per function, each building its adapters from the environment at
// module scope (no AWS call at import), and failing fast when a setting it needs is missing.

import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { awsDeps, bucketName } from '../../lambdas/adapters/aws/deps.ts';
import { dynamoLedger } from '../../lambdas/adapters/aws/dynamo-ledger.ts';
import { s3MessageStore } from '../../lambdas/adapters/aws/s3-message-store.ts';
import { ENV } from '../../lambdas/handlers/deps.ts';

const FUNCTIONS = [
  'av-definitions',
  'block',
  'decide',
  'deliver',
  'ingest',
  'outbound-abuse',
  'outbound-decide',
  'outbox-ingest',
  'parse',
  'quarantine',
  'reconcile',
  'release',
  'scan-antivirus',
  'scan-attachments',
  'scan-auth',
  'scan-content',
  'scan-dlp',
  'scan-lists',
  'send',
  'submit',
];

const ENVIRONMENT = {
  [ENV.bucket]: 'bucket',
  [ENV.quarantineTable]: 'quarantine',
  [ENV.ledgerTable]: 'ledger',
  [ENV.stateMachineArn]: 'arn:aws:states:us-east-1:123456789012:stateMachine:seg',
  [ENV.outboundStateMachineArn]: 'arn:aws:states:us-east-1:123456789012:stateMachine:seg-outbound',
  [ENV.ingestFailureQueueUrl]: 'https://sqs.us-east-1.amazonaws.com/123456789012/seg-ingest-failures',
  [ENV.arrivalQueueUrl]: 'https://sqs.us-east-1.amazonaws.com/123456789012/seg-arrivals',
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
    const deps = awsDeps({ store: s3MessageStore, bucket: bucketName }, ENVIRONMENT);
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
    expect(() => awsDeps({ ledger: dynamoLedger }, env)).toThrow(
      `environment variable ${ENV.ledgerTable} is not set`,
    );
  });

  it('fails on an invalid inlined config with every problem listed', () => {
    expect(() =>
      awsDeps({ store: s3MessageStore }, { ...ENVIRONMENT, [ENV.configJson]: '{"domains":[]}' }),
    ).toThrow(/domains/);
  });
});

/** The AWS SDK packages (external in the bundle, as CDK builds it) and npm packages each entry pulls in. */
async function bundleImports(name: string): Promise<{ sdk: string[]; packages: Set<string> }> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL(`../../lambdas/functions/${name}.ts`, import.meta.url))],
    bundle: true,
    write: false,
    platform: 'node',
    format: 'esm',
    outdir: 'out',
    metafile: true,
    external: ['@aws-sdk/*'],
    mainFields: ['module', 'main'],
    logLevel: 'silent',
  });
  const sdk = new Set<string>();
  const packages = new Set<string>();
  for (const [path, input] of Object.entries(result.metafile.inputs)) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1];
    if (pkg) packages.add(pkg);
    for (const imported of input.imports)
      if (imported.external && imported.path.startsWith('@aws-sdk/')) sdk.add(imported.path);
  }
  return { sdk: [...sdk].sort(), packages };
}

describe('per-function bundles', () => {
  const S3 = '@aws-sdk/client-s3';
  const DDB = ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb'];
  const SECRETS = '@aws-sdk/client-secrets-manager';
  const SFN = '@aws-sdk/client-sfn';
  const SQS = '@aws-sdk/client-sqs';
  const SES = '@aws-sdk/client-sesv2';
  const expected: Record<string, string[]> = {
    decide: [S3],
    parse: [S3],
    'scan-auth': [S3],
    'scan-content': [S3],
    'scan-lists': [S3],
    'scan-attachments': [S3],
    'scan-antivirus': [S3],
    'av-definitions': [S3],
    ingest: [S3, ...DDB, SFN],
    deliver: [S3, ...DDB, SECRETS],
    quarantine: [S3, ...DDB],
    release: [S3, ...DDB, SECRETS, SES],
    reconcile: [S3, ...DDB, SECRETS, SFN, SQS],
    'scan-dlp': [S3],
    'outbound-abuse': DDB,
    'outbound-decide': [S3],
    send: [S3, ...DDB, SES],
    block: [S3, ...DDB, SES],
    submit: [S3, ...DDB, SFN],
    'outbox-ingest': [S3, ...DDB, SFN],
  };

  it.each(FUNCTIONS)('%s loads only the SDK clients of its own adapters', async (name) => {
    const { sdk, packages } = await bundleImports(name);
    expect(sdk).toEqual([...(expected[name] ?? [])].sort());
    // nodemailer is the mailer's: only the functions that deliver carry it, and block, which composes
    // the sender's notification with its MailComposer.
    expect(packages.has('nodemailer')).toBe(['deliver', 'release', 'reconcile', 'block'].includes(name));
    // mailauth is the auth scanner's (the scanner groups share one registry): delivery only formats its header.
    expect(packages.has('mailauth')).toBe(name.startsWith('scan-'));
  });
});
