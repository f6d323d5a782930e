// OutboundHandlerDeps from AWS adapters at a Lambda's cold start: awsDeps plus SES sending, the
// per-sender counter (ledger table) and the outbound workflow starter, each only when asked for.

import { ENV, type HandlerDeps, type OutboundHandlerDeps } from '../../handlers/deps.ts';
import { createDynamoClient, createSesClient, createSfnClient } from './aws-clients.ts';
import { awsDeps, configFromEnv } from './deps.ts';
import { DynamoSenderCounter } from './dynamo-sender-counter.ts';
import { SesOutboundSender } from './ses-sender.ts';
import { SfnWorkflowStarter } from './sfn-starter.ts';

type Env = Readonly<Record<string, string | undefined>>;
type OutboundOnly = 'sender' | 'counter' | 'outboundStarter';

function required(env: Env, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

export function awsOutboundDeps<K extends keyof HandlerDeps, O extends OutboundOnly>(
  keys: readonly K[],
  outbound: readonly O[],
  env: Env = process.env,
): ReturnType<typeof awsDeps<K>> & Pick<OutboundHandlerDeps, O> {
  const base = awsDeps(keys, env);
  const region = env.AWS_REGION ?? configFromEnv(env).region;
  const extra: { -readonly [P in OutboundOnly]?: OutboundHandlerDeps[P] } = {};
  if (outbound.includes('sender' as O)) extra.sender = new SesOutboundSender(createSesClient({ region }));
  if (outbound.includes('counter' as O))
    extra.counter = new DynamoSenderCounter({
      client: createDynamoClient({ region }),
      tableName: required(env, ENV.ledgerTable),
    });
  if (outbound.includes('outboundStarter' as O))
    extra.outboundStarter = new SfnWorkflowStarter({
      client: createSfnClient({ region }),
      stateMachineArn: required(env, ENV.outboundStateMachineArn),
    });
  return { ...base, ...extra } as ReturnType<typeof awsDeps<K>> & Pick<OutboundHandlerDeps, O>;
}
