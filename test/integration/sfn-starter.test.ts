// SfnWorkflowStarter against a mocked SFNClient (no Step Functions emulator speaks the Express
// StartExecution API offline): the command it sends, the id it returns, and how failures are classified.

import {
  SFNClient,
  SFNServiceException,
  StartExecutionCommand,
  StateMachineDoesNotExist,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { SfnWorkflowStarter } from '../../lambdas/adapters/aws/sfn-starter.ts';
import { TransientError } from '../../lambdas/errors.ts';
import type { WorkflowInput } from '../../lambdas/ports/index.ts';

const ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:SegInbound';
const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:express:SegInbound:8f1c0d3e:5b2a';

const input: WorkflowInput = {
  messageId: 'o3vkh5bkq9t1lbm2q0example',
  bucket: 'seg-mail',
  key: 'inbound/o3vkh5bkq9t1lbm2q0example',
  envelope: { mailFrom: 'alice@sender.example', recipients: ['bob@example.com', 'carol@example.com'] },
  receivedAt: '2026-11-28T10:00:00.000Z',
  ses: { spam: 'PASS', virus: 'PASS', spf: 'PASS', dkim: 'PASS', dmarc: 'PASS', dmarcPolicy: 'NONE' },
  direction: 'inbound',
};

const sfn = mockClient(SFNClient);
afterAll(() => sfn.restore());
beforeEach(() => sfn.reset());

const starter = () =>
  new SfnWorkflowStarter({ client: new SFNClient({ region: 'eu-west-1' }), stateMachineArn: ARN });

/** A service error as the SDK deserializes it from an HTTP answer. */
const serviceError = (name: string, status: number, fault: 'client' | 'server') =>
  new SFNServiceException({
    name,
    message: `${name} from the service`,
    $fault: fault,
    $metadata: { httpStatusCode: status },
  });

describe('SfnWorkflowStarter', () => {
  it('starts the configured state machine with the workflow input as JSON and no execution name', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION, startDate: new Date() });

    await starter().start(input);

    const calls = sfn.commandCalls(StartExecutionCommand);
    expect(calls).toHaveLength(1);
    const sent = calls[0]!.args[0].input;
    // Exactly these fields: a name would make a redriven message collide with its first execution.
    expect(Object.keys(sent).sort()).toEqual(['input', 'stateMachineArn']);
    expect(sent.stateMachineArn).toBe(ARN);
    expect(JSON.parse(sent.input ?? '')).toEqual(input);
  });

  it('returns the execution ARN as the execution id', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION, startDate: new Date() });
    await expect(starter().start(input)).resolves.toEqual({ executionId: EXECUTION });
  });

  it('throws TransientError, keeping the SDK error as cause, when Step Functions throttles', async () => {
    const throttled = serviceError('ThrottlingException', 400, 'client');
    sfn.on(StartExecutionCommand).rejects(throttled);

    const error = await starter()
      .start(input)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(TransientError);
    expect((error as TransientError).name).toBe('TransientError');
    expect((error as TransientError).message).toContain(input.messageId);
    expect((error as TransientError).message).toContain('ThrottlingException');
    expect((error as TransientError).cause).toBe(throttled);
  });

  it('throws TransientError when the service answers with a server fault', async () => {
    sfn.on(StartExecutionCommand).rejects(serviceError('InternalFailure', 500, 'server'));
    await expect(starter().start(input)).rejects.toBeInstanceOf(TransientError);
  });

  it('throws TransientError when the connection fails before any answer', async () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    sfn.on(StartExecutionCommand).rejects(reset);
    await expect(starter().start(input)).rejects.toBeInstanceOf(TransientError);
  });

  it('passes a wiring error such as a missing state machine through unchanged', async () => {
    const missing = new StateMachineDoesNotExist({
      message: `State Machine Does Not Exist: '${ARN}'`,
      $metadata: { httpStatusCode: 400 },
    });
    sfn.on(StartExecutionCommand).rejects(missing);

    const error = await starter()
      .start(input)
      .catch((e: unknown) => e);

    expect(error).toBe(missing);
    expect(error).not.toBeInstanceOf(TransientError);
  });
});
