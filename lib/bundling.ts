// How every Lambda entry is bundled: one set of esbuild options shared by lib/functions.ts (through
// NodejsFunction) and `npm run bench` (through esbuild directly), so the measured bundle is the deployed one.

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type { SegConfig } from '../lambdas/config/schema.ts';
import { ENV } from '../lambdas/handlers/deps.ts';

/** The repository root: NodejsFunction's projectRoot. */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The esbuild options of a function bundle, and the NODE_OPTIONS its runtime gets. */
export interface SegBundling {
  readonly target: string;
  readonly minify: boolean;
  readonly sourceMap: boolean;
  readonly mainFields: string[];
  readonly banner: string;
  readonly define: Record<string, string>;
  /** The Lambda Node.js runtime ships the AWS SDK v3: CDK's default for Node 18+ runtimes. */
  readonly externalModules: string[];
  readonly nodeOptions?: string;
}

export function bundlingOptions(config: SegConfig): SegBundling {
  return {
    target: 'node22',
    // Not minified and without a source map (docs/cost.md, "Source maps"): a stack trace names the real
    // functions at lines of a readable bundle, and a cold start parses no map. --enable-source-maps over
    // a 2-11 MB map cost 11-82 ms more CPU per cold start in `npm run bench`; not minifying cost none.
    minify: false,
    sourceMap: false,
    mainFields: ['module', 'main'],
    // CommonJS dependencies (mailparser, nodemailer) call require() inside an ESM bundle.
    banner:
      "import { createRequire as __segCreateRequire } from 'node:module'; const require = __segCreateRequire(import.meta.url);",
    define: { [`process.env.${ENV.configJson}`]: JSON.stringify(JSON.stringify(config)) },
    externalModules: ['@aws-sdk/*'],
  };
}

/** The same options in NodejsFunction's shape. */
export function cdkBundling(config: SegConfig): nodejs.BundlingOptions {
  const { nodeOptions: _, ...options } = bundlingOptions(config);
  return { ...options, forceDockerBundling: false, format: 'esm' as nodejs.OutputFormat };
}
