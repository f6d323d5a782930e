// WorkflowStarter on Step Functions: StartExecution of the inbound state machine with the
// WorkflowInput as JSON. Express workflows have no name dedup; idempotency lives in the ledger.
// Throttling, server faults and network failures become TransientError; other errors pass unchanged.

import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { TransientError } from '../../errors.ts';
import { ENV } from '../../handlers/deps.ts';
import type { WorkflowInput, WorkflowStarter } from '../../ports/index.ts';
import { clientConfig } from './client-config.ts';
import type { BuildContext } from './deps.ts';

/** Error names AWS uses for "slow down" (KMS throttling applies to encrypted state machines). */
const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'KmsThrottlingException',
]);
/** Socket-level failures: no answer from the service at all. */
const NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND']);

export class SfnWorkflowStarter implements WorkflowStarter {
  constructor(private readonly props: { readonly client: SFNClient; readonly stateMachineArn: string }) {}

  /**
   * Starts one execution; `executionId` is the execution ARN. No execution name is sent: Step
   * Functions generates one, and a redriven message must never collide with its first run's name.
   * @throws TransientError when the SDK's own retries ran out on a throttle, a 5xx or the network.
   */
  async start(input: WorkflowInput): Promise<{ executionId: string }> {
    try {
      const out = await this.props.client.send(
        new StartExecutionCommand({
          stateMachineArn: this.props.stateMachineArn,
          input: JSON.stringify(input),
        }),
      );
      return { executionId: out.executionArn ?? '' };
    } catch (error) {
      if (!isTransient(error)) throw error;
      throw new TransientError(
        `cannot start workflow for ${input.messageId}: ${(error as Error).name}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
}

/** Worth retrying later: throttled, a server fault, or no answer at all. Wiring bugs (4xx) are not. */
function isTransient(error: unknown): boolean {
  const e = error as {
    name?: string;
    code?: string;
    $fault?: string;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  const status = e.$metadata?.httpStatusCode ?? 0;
  return (
    e.$fault === 'server' ||
    e.$retryable !== undefined ||
    status === 429 ||
    status >= 500 ||
    THROTTLING.has(e.name ?? '') ||
    e.name === 'TimeoutError' ||
    NETWORK.has(e.code ?? '')
  );
}

/** The Lambda builder: the inbound state machine from SEG_STATE_MACHINE_ARN. */
export const sfnWorkflowStarter = (ctx: BuildContext): SfnWorkflowStarter =>
  new SfnWorkflowStarter({
    client: new SFNClient(clientConfig({ region: ctx.region })),
    stateMachineArn: ctx.required(ENV.stateMachineArn),
  });

/** The Lambda builder: the outbound state machine from SEG_OUTBOUND_STATE_MACHINE_ARN. */
export const sfnOutboundStarter = (ctx: BuildContext): SfnWorkflowStarter =>
  new SfnWorkflowStarter({
    client: new SFNClient(clientConfig({ region: ctx.region })),
    stateMachineArn: ctx.required(ENV.outboundStateMachineArn),
  });
