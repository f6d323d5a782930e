// The CDK app: loads and validates seg.config.json, builds the SegStack and runs the cdk-nag
// AwsSolutions checks at synth. An invalid config fails synth with every problem listed.
// Usage: `npx cdk synth [-c config=path/to/seg.config.json] [-c stackName=Seg] [-c activateRuleSet=false]
// [-c replaceActiveRuleSet=true]`.

import { existsSync } from 'node:fs';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError, loadConfig } from '../lambdas/config/load-config.ts';
import { SegStack } from '../lib/seg-stack.ts';

const DEFAULT_CONFIG = 'seg.config.json';
const EXAMPLE_CONFIG = 'seg.config.example.json';

/** The config path from context `config`, else seg.config.json, else the example with a warning. */
function configPath(app: App): string {
  const fromContext = app.node.tryGetContext('config') as string | undefined;
  if (fromContext) return fromContext;
  if (existsSync(DEFAULT_CONFIG)) return DEFAULT_CONFIG;
  console.warn(
    `seg: ${DEFAULT_CONFIG} not found, synthesizing with ${EXAMPLE_CONFIG}; copy it and edit your domains.`,
  );
  return EXAMPLE_CONFIG;
}

const app = new App();
let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig(configPath(app));
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}

const stackName = (app.node.tryGetContext('stackName') as string | undefined) || 'Seg';
// `-c activateRuleSet=false` deploys the rule set without making it the region's active one.
const activateRuleSet = String(app.node.tryGetContext('activateRuleSet') ?? 'true') !== 'false';
// `-c replaceActiveRuleSet=true` lets the deploy replace another active rule set (else it fails safely).
const replaceContext = app.node.tryGetContext('replaceActiveRuleSet') as string | boolean | undefined;
new SegStack(app, stackName, {
  config,
  activateRuleSet,
  ...(replaceContext === undefined ? {} : { replaceActiveRuleSet: String(replaceContext) === 'true' }),
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: config.region },
  description: 'seg: serverless secure email gateway (SES receiving, Step Functions, Lambda)',
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
