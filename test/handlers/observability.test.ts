// The AWS observability adapters: the Powertools logger writes one JSON line per call with the seg
// service name and the caller's fields, and the metrics adapter writes EMF lines that CloudWatch turns
// into metrics. Both are read from the process output, as CloudWatch Logs reads them.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  PowertoolsLogAdapter,
  PowertoolsMetricsAdapter,
  withLambdaContext,
} from '../../lambdas/adapters/aws/observability.ts';

/** Lines written to stdout and stderr while `run` runs (Lambda sends both to CloudWatch Logs). */
async function outputOf(run: () => unknown): Promise<string[]> {
  const lines: string[] = [];
  const capture = (chunk: unknown) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  };
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation(capture),
    vi.spyOn(process.stderr, 'write').mockImplementation(capture),
  ];
  try {
    await run();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return lines;
}

const context = {
  functionName: 'seg-decide',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:seg-decide',
  memoryLimitInMB: '256',
  awsRequestId: 'req-1',
};

// Powertools reads these at construction; POWERTOOLS_DEV would pretty-print across lines.
const saved = { ...process.env };
beforeEach(() => {
  delete process.env.POWERTOOLS_DEV;
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
});
afterEach(() => {
  process.env = { ...saved };
});

describe('PowertoolsLogAdapter', () => {
  it('writes one JSON line with the service, level, message and fields', async () => {
    const logger = new PowertoolsLogAdapter();
    const lines = await outputOf(() =>
      logger.info('decided', { messageId: 'm-1', action: 'quarantine', score: 7.5, symbols: ['SPF_FAIL'] }),
    );
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      service: 'seg',
      level: 'INFO',
      message: 'decided',
      messageId: 'm-1',
      action: 'quarantine',
      score: 7.5,
      symbols: ['SPF_FAIL'],
    });
  });

  it('adds the function name and cold start inside a wrapped invocation', async () => {
    const logger = new PowertoolsLogAdapter();
    const handler = withLambdaContext(async (_event: unknown) => logger.info('started'), { logger });
    const lines = await outputOf(() => handler({}, context));
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      function_name: 'seg-decide',
      function_request_id: 'req-1',
      cold_start: expect.any(Boolean),
    });
  });

  it('logs the error name of a failed invocation and rethrows it', async () => {
    const logger = new PowertoolsLogAdapter();
    const failing = withLambdaContext(
      async (_event: unknown) => {
        throw new RangeError('out of range');
      },
      { logger },
    );
    let thrown: unknown;
    const lines = await outputOf(() => failing({}, context).catch((e: unknown) => (thrown = e)));
    expect(thrown).toBeInstanceOf(RangeError);
    expect(JSON.parse(lines.at(-1) ?? '')).toMatchObject({ level: 'ERROR', errorName: 'RangeError' });
  });

  it('drops info lines when POWERTOOLS_LOG_LEVEL is WARN', async () => {
    process.env.POWERTOOLS_LOG_LEVEL = 'WARN';
    const logger = new PowertoolsLogAdapter();
    const lines = await outputOf(() => {
      logger.info('decided', { messageId: 'm-2' });
      logger.warn('delivery failed', { messageId: 'm-2' });
    });
    expect(lines.map((l) => JSON.parse(l).message)).toEqual(['delivery failed']);
  });
});

describe('PowertoolsMetricsAdapter', () => {
  it('emits an EMF document with the seg namespace, the metric and its dimension', async () => {
    const metrics = new PowertoolsMetricsAdapter();
    const lines = await outputOf(() => metrics.count('Messages', 'quarantine'));
    const emf = lines.map((l) => JSON.parse(l)).find((d) => d._aws);
    expect(emf).toBeDefined();
    const directive = emf._aws.CloudWatchMetrics[0];
    expect(directive.Namespace).toBe('seg');
    expect(directive.Metrics).toEqual([{ Name: 'Messages', Unit: 'Count' }]);
    expect(directive.Dimensions[0]).toContain('action');
    expect(emf).toMatchObject({ action: 'quarantine', Messages: 1 });
  });
});
