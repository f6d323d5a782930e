import { describe, expect, it } from 'vitest';
import { PermanentDeliveryError, TransientDeliveryError } from '../../lambdas/errors.ts';
import {
  type AslDefinition,
  bindTasks,
  LocalWorkflow,
  localFunctionArn,
  type TaskHandler,
} from '../../lambdas/local/local-workflow.ts';
import type { WorkflowInput } from '../../lambdas/ports/index.ts';
import { WORKFLOW_FUNCTIONS, type WorkflowFunction } from '../../lib/workflow/inbound-definition.ts';

const input: WorkflowInput = {
  messageId: 'm1',
  bucket: 'b',
  key: 'inbound/m1',
  envelope: { mailFrom: 'a@sender.test', recipients: ['u@example.com'] },
  receivedAt: '2026-01-01T00:00:00.000Z',
  direction: 'inbound',
};

/** Records every call per function; each function's behaviour can be replaced. */
function recordingHandlers(overrides: Partial<Record<WorkflowFunction, TaskHandler>> = {}) {
  const calls: { fn: WorkflowFunction; event: Record<string, unknown> }[] = [];
  const defaults: Record<WorkflowFunction, TaskHandler> = {
    Parse: async () => ({ sizeBytes: 1, truncated: false, problems: [] }),
    ScanAuth: async () => ({ scanner: 'auth', family: 'AUTH', findings: [], ms: 1 }),
    ScanContent: async () => ({ scanner: 'content', family: 'CONTENT', findings: [], ms: 1 }),
    ScanLists: async () => ({ scanner: 'lists', family: 'LIST', findings: [], ms: 1 }),
    ScanAttachments: async () => ({ scanner: 'attachment-types', family: 'ATTACHMENT', findings: [], ms: 1 }),
    ScanAntivirus: async () => ({ scanner: 'antivirus', family: 'AV', findings: [], ms: 1 }),
    Decide: async (event) => ({
      ...(event as object),
      verdict: { action: 'deliver', score: 0, symbols: [], reason: 'clean', traceKey: 'verdicts/m1.json' },
    }),
    Deliver: async () => ({ delivered: 1 }),
    Quarantine: async () => ({ quarantined: 1 }),
  };
  const handlers = Object.fromEntries(
    WORKFLOW_FUNCTIONS.map((fn) => [
      fn,
      async (event: unknown) => {
        calls.push({ fn, event: event as Record<string, unknown> });
        return (overrides[fn] ?? defaults[fn])(event);
      },
    ]),
  ) as Record<WorkflowFunction, TaskHandler>;
  return { handlers, calls };
}

describe('bindTasks', () => {
  it('binds every workflow function to at least one Task state of the inbound definition', () => {
    const workflow = new LocalWorkflow({ handlers: recordingHandlers().handlers });
    const bound = new Set(workflow.bindings.map((b) => b.fn));
    expect([...bound].sort()).toEqual([...WORKFLOW_FUNCTIONS].sort());
  });

  it('rejects a Task whose Resource names no workflow function', () => {
    const definition: AslDefinition = {
      StartAt: 'X',
      States: { X: { Type: 'Task', Resource: `\${UnknownFunctionArn}`, End: true } },
    };
    expect(() => bindTasks(definition)).toThrow(/names no workflow function/);
  });

  it('substitutes every placeholder with a local function ARN', () => {
    const workflow = new LocalWorkflow({ handlers: recordingHandlers().handlers });
    const text = JSON.stringify(workflow.executedDefinition);
    expect(text).not.toContain('${');
    expect(text).toContain(localFunctionArn('ScanAuth'));
    expect(localFunctionArn('ScanAuth')).toBe('arn:aws:lambda:local:000000000000:function:seg-scan-auth');
  });
});

describe('LocalWorkflow', () => {
  it('delivers a clean message through Parse, the scan branches and Decide', async () => {
    const { handlers, calls } = recordingHandlers();
    const workflow = new LocalWorkflow({ handlers, retryIntervalMs: 0 });
    const { executionId } = await workflow.start(input);
    await workflow.drain();
    expect(workflow.executions.get(executionId)?.status).toBe('SUCCEEDED');
    expect(calls.map((c) => c.fn)).toContain('Deliver');
    const decide = calls.find((c) => c.fn === 'Decide');
    expect(decide?.event.scans).toHaveLength(5);
  });

  it('retries Deliver on TransientDeliveryError once (the delivery budget) and succeeds', async () => {
    let attempts = 0;
    const { handlers, calls } = recordingHandlers({
      Deliver: async () => {
        attempts++;
        if (attempts < 2) throw new TransientDeliveryError('451 try later', 451);
        return { delivered: 1 };
      },
    });
    const workflow = new LocalWorkflow({ handlers, retryIntervalMs: 0 });
    const { executionId } = await workflow.start(input);
    await workflow.drain();
    expect(workflow.executions.get(executionId)?.status).toBe('SUCCEEDED');
    expect(calls.filter((c) => c.fn === 'Deliver')).toHaveLength(2);
    expect(calls.filter((c) => c.fn === 'Quarantine')).toHaveLength(0);
  });

  it('routes a PermanentDeliveryError to the DeliveryFailed quarantine with the Lambda error name and cause', async () => {
    const { handlers, calls } = recordingHandlers({
      Deliver: async () => {
        throw new PermanentDeliveryError('550 no such user', 550);
      },
    });
    const workflow = new LocalWorkflow({ handlers, retryIntervalMs: 0 });
    await workflow.start(input);
    await workflow.drain();
    expect(calls.filter((c) => c.fn === 'Deliver')).toHaveLength(1);
    const quarantine = calls.find((c) => c.fn === 'Quarantine');
    const failure = quarantine?.event.deliveryFailure as { Error: string; Cause: string };
    expect(failure.Error).toBe('PermanentDeliveryError');
    // The Cause is the JSON document Lambda reports, as Step Functions passes it on in AWS.
    expect(JSON.parse(failure.Cause)).toMatchObject({
      errorType: 'PermanentDeliveryError',
      errorMessage: '550 no such user',
    });
  });

  it('turns a failing scanner family into its _ERROR finding instead of failing the message', async () => {
    const { handlers, calls } = recordingHandlers({
      ScanContent: async () => {
        throw new Error('boom');
      },
    });
    const workflow = new LocalWorkflow({ handlers, retryIntervalMs: 0 });
    await workflow.start(input);
    await workflow.drain();
    const decide = calls.find((c) => c.fn === 'Decide');
    expect(JSON.stringify(decide?.event.scans)).toContain('CONTENT_ERROR');
  });

  it('sends a message whose Parse fails to the FailSafe quarantine', async () => {
    const { handlers, calls } = recordingHandlers({
      Parse: async () => {
        throw new TypeError('bad event');
      },
    });
    const workflow = new LocalWorkflow({ handlers, retryIntervalMs: 0 });
    const { executionId } = await workflow.start(input);
    await workflow.drain();
    expect(workflow.executions.get(executionId)?.status).toBe('SUCCEEDED');
    const quarantine = calls.find((c) => c.fn === 'Quarantine');
    expect(quarantine?.event.failure).toMatchObject({ Error: 'TypeError' });
  });

  it('records a failed execution when even the fail-safe quarantine fails', async () => {
    const failed: string[] = [];
    const { handlers } = recordingHandlers({
      Parse: async () => {
        throw new Error('parse down');
      },
      Quarantine: async () => {
        throw new Error('dynamo down');
      },
    });
    const workflow = new LocalWorkflow({
      handlers,
      retryIntervalMs: 0,
      onExecutionFailed: (id) => failed.push(id),
    });
    const { executionId } = await workflow.start(input);
    await workflow.drain();
    expect(workflow.executions.get(executionId)?.status).toBe('FAILED');
    expect(workflow.executions.get(executionId)?.error?.name).toBe('Undisposed');
    expect(failed).toEqual([executionId]);
  });
});
