// Builds HandlerDeps at a Lambda's cold start from the builders an entry names. Each builder lives
// in its adapter's module, so a function's bundle carries only the adapters (and SDK clients) it
// uses; a builder reads only its own settings, and a missing one throws here, at cold start.

import { promises as dns } from 'node:dns';
import { parseConfig } from '../../config/load-config.ts';
import type { SegConfig } from '../../config/schema.ts';
import { ENV, type OutboundHandlerDeps } from '../../handlers/deps.ts';
import type { Clock, Logger } from '../../ports/index.ts';
import { PowertoolsLogAdapter, PowertoolsMetricsAdapter } from './observability.ts';

export type Env = Readonly<Record<string, string | undefined>>;

/** What a builder gets: the settings, the config and the deps every function has. */
export interface BuildContext {
  readonly env: Env;
  readonly config: SegConfig;
  readonly region: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The environment variable's value; throws naming it when it is not set. */
  required(name: string): string;
}

/** The deps a builder can provide: the inbound handlers' and the outbound ones' (sender, counter). */
type AnyDeps = OutboundHandlerDeps;

/** A function's adapters, by the dep they provide. */
export type DepBuilders = { readonly [K in keyof AnyDeps]?: (ctx: BuildContext) => AnyDeps[K] };

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

/** The bucket name from SEG_BUCKET. */
export const bucketName = (ctx: BuildContext): string => ctx.required(ENV.bucket);

/**
 * The deps `builders` name, plus `config`, `clock`, `resolver`, `logger` and `metrics`, which every
 * function gets. Example: `awsDeps({ store: s3MessageStore })`.
 */
export function awsDeps<B extends DepBuilders>(
  builders: B,
  env: Env = process.env,
): Pick<AnyDeps, Always | (keyof B & keyof AnyDeps)> {
  const config = configFromEnv(env);
  const logger = new PowertoolsLogAdapter();
  const ctx: BuildContext = {
    env,
    config,
    region: env.AWS_REGION ?? config.region,
    clock: () => new Date(),
    logger,
    required(name) {
      const value = env[name];
      if (!value) throw new Error(`environment variable ${name} is not set`);
      return value;
    },
  };
  const deps: Record<string, unknown> = {
    config,
    clock: ctx.clock,
    resolver: (name: string, rrtype: string) => dns.resolve(name, rrtype),
    logger,
    metrics: new PowertoolsMetricsAdapter(),
  };
  for (const [key, build] of Object.entries(builders)) {
    if (build) deps[key] = (build as (ctx: BuildContext) => unknown)(ctx);
  }
  return deps as Pick<AnyDeps, Always | (keyof B & keyof AnyDeps)>;
}
