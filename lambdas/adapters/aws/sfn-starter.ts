// WorkflowStarter on Step Functions: StartExecution of the inbound state machine with the
// WorkflowInput as JSON. Express workflows have no name dedup; idempotency lives in the ledger.

import { type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { WorkflowInput, WorkflowStarter } from '../../ports/index.ts';

export class SfnWorkflowStarter implements WorkflowStarter {
  constructor(private readonly props: { readonly client: SFNClient; readonly stateMachineArn: string }) {}

  async start(input: WorkflowInput): Promise<{ executionId: string }> {
    const out = await this.props.client.send(
      new StartExecutionCommand({
        stateMachineArn: this.props.stateMachineArn,
        input: JSON.stringify(input),
      }),
    );
    return { executionId: out.executionArn ?? '' };
  }
}
