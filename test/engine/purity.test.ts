// The engine is pure: nothing under lambdas/engine may import the AWS SDK, CDK, or the handler,
// adapter and local-runtime layers. Checked on the source text, so a new file cannot slip through.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ENGINE = join(import.meta.dirname, '..', '..', 'lambdas', 'engine');
const FORBIDDEN = [
  /^@aws-sdk\//,
  /^aws-cdk-lib/,
  /^constructs$/,
  /\/handlers\//,
  /\/adapters\//,
  /\/local\//,
];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

function importsOf(text: string): string[] {
  const specs = text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"]([^'"]+)['"]/g);
  return [...specs].map((m) => m[1] ?? '');
}

describe('engine purity', () => {
  it('finds the engine sources', () => {
    expect(sources(ENGINE).length).toBeGreaterThan(10);
  });

  it('imports no AWS SDK, CDK, handler, adapter or local-runtime module', () => {
    const offenders = sources(ENGINE).flatMap((file) =>
      importsOf(readFileSync(file, 'utf8'))
        .filter((spec) => FORBIDDEN.some((re) => re.test(spec)))
        .map((spec) => `${relative(ENGINE, file)} imports ${spec}`),
    );
    expect(offenders).toEqual([]);
  });

  it('flags a forbidden import when one is present', () => {
    const specs = importsOf(
      "import { S3Client } from '@aws-sdk/client-s3';\nimport x from '../handlers/deps.ts';",
    );
    expect(specs.filter((spec) => FORBIDDEN.some((re) => re.test(spec)))).toHaveLength(2);
  });
});
