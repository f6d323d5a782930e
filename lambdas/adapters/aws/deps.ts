// Builds HandlerDeps from AWS adapters and environment variables, at a Lambda's cold start. Each
// function asks only for the deps it uses, so it needs only those settings; a missing one throws here.

import { promises as dns } from 'node:dns';
import { parseConfig } from '../../config/load-config.ts';
import type { SegConfig } from '../../config/schema.ts';
import { ENV, type HandlerDeps } from '../../handlers/deps.ts';
import {
  createDynamoClient,
  createS3Client,
  createSecretsClient,
  createSfnClient,
  createSqsClient,
} from './aws-clients.ts';
import { DynamoLedger } from './dynamo-ledger.ts';
import { DynamoPendingIndex } from './dynamo-pending-index.ts';
import { DynamoQuarantineStore } from './dynamo-quarantine-store.ts';
import { PowertoolsLogAdapter, PowertoolsMetricsAdapter } from './observability.ts';
import { S3MessageStore } from './s3-message-store.ts';
import { SfnWorkflowStarter } from './sfn-starter.ts';
import { SmtpMailer } from './smtp-mailer.ts';
import { SqsFailedIngestQueue } from './sqs-failed-ingests.ts';

type Env = Readonly<Record<string, string | undefined>>;

function required(env: Env, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

/** The validated config from SEG_CONFIG_JSON. */
export function configFromEnv(env: Env = process.env): SegConfig {
  // The literal `process.env.SEG_CONFIG_JSON` matters: esbuild's `define` inlines the config at synth
  // by replacing exactly that expression, so a computed lookup would miss it in the bundle.
  const json = env === process.env ? process.env.SEG_CONFIG_JSON : env[ENV.configJson];
  if (!json) throw new Error(`environment variable ${ENV.configJson} is not set`);
  return parseConfig(JSON.parse(json), ENV.configJson);
}

/** What every function gets, whatever it asks for. */
type Always = 'config' | 'clock' | 'resolver' | 'logger' | 'metrics';

/**
 * The deps named in `keys`, built from AWS adapters. `config`, `clock`, `resolver`, `logger` and
 * `metrics` are always included; the rest read their environment variable only when asked for.
 */
export function awsDeps<K extends keyof HandlerDeps>(
  keys: readonly K[],
  env: Env = process.env,
): Pick<HandlerDeps, K | Always> {
  const config = configFromEnv(env);
  const region = env.AWS_REGION ?? config.region;
  const want = new Set<keyof HandlerDeps>(keys);
  const clock = () => new Date();
  const logger = new PowertoolsLogAdapter();
  const deps: Partial<Record<keyof HandlerDeps, unknown>> = {
    config,
    clock,
    resolver: (name: string, rrtype: string) => dns.resolve(name, rrtype),
    logger,
    metrics: new PowertoolsMetricsAdapter(),
  };
  if (want.has('bucket') || want.has('store')) {
    const bucket = required(env, ENV.bucket);
    deps.bucket = bucket;
    deps.store = new S3MessageStore({ client: createS3Client({ region }), bucket });
  }
  if (want.has('quarantine') || want.has('ledger') || want.has('pending')) {
    const client = createDynamoClient({ region });
    if (want.has('quarantine')) {
      deps.quarantine = new DynamoQuarantineStore({
        client,
        tableName: required(env, ENV.quarantineTable),
        clock,
      });
    }
    if (want.has('ledger')) {
      deps.ledger = new DynamoLedger({
        client,
        tableName: required(env, ENV.ledgerTable),
        clock,
        retentionDays: config.retention.messageDays,
      });
    }
    if (want.has('pending')) {
      deps.pending = new DynamoPendingIndex({
        client,
        tableName: required(env, ENV.ledgerTable),
        retentionDays: config.retention.messageDays,
      });
    }
  }
  if (want.has('mailer')) {
    deps.mailer = new SmtpMailer({ domains: config.domains, secrets: createSecretsClient({ region }) });
  }
  if (want.has('starter')) {
    deps.starter = new SfnWorkflowStarter({
      client: createSfnClient({ region }),
      stateMachineArn: required(env, ENV.stateMachineArn),
    });
  }
  if (want.has('failedIngests')) {
    deps.failedIngests = new SqsFailedIngestQueue({
      client: createSqsClient({ region }),
      queueUrl: required(env, ENV.ingestFailureQueueUrl),
      logger,
    });
  }
  return deps as Pick<HandlerDeps, K | Always>;
}
