// `seg quarantine --stack`: finds the deployed tables and Release function through the stack's
// CloudFormation outputs, reads DynamoDB and S3, and invokes Release. The SDK clients are mocked
// (aws-sdk-client-mock mocks every instance of a class), since no emulator serves CloudFormation or Lambda.

import { CloudFormationClient, DescribeStacksCommand, type Output } from '@aws-sdk/client-cloudformation';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { quarantineCommand, STACK_OUTPUT_KEYS } from '../../bin/commands/quarantine.ts';
import { QUARANTINE_TABLE } from '../../lambdas/adapters/aws/table-schemas.ts';
import { KEYS } from '../../lambdas/handlers/deps.ts';
import type { ReleaseResult } from '../../lambdas/handlers/release.ts';
import type { QuarantineItem, WorkflowInput } from '../../lambdas/ports/index.ts';

const STACK = 'SegStack';
const BUCKET = 'segstack-mailbucket-1a2b3c';
const TABLE = 'SegStack-QuarantineTable-4D5E6F';
const FUNCTION = 'SegStack-Release-7G8H9I';
const MESSAGE = 'o3vkh5bkq9t1lbm2q0example';
const STACK_OUTPUTS: Output[] = [
  { OutputKey: STACK_OUTPUT_KEYS.bucketName, OutputValue: BUCKET },
  { OutputKey: STACK_OUTPUT_KEYS.quarantineTableName, OutputValue: TABLE },
  { OutputKey: STACK_OUTPUT_KEYS.ledgerTableName, OutputValue: 'SegStack-LedgerTable-0J1K2L' },
  { OutputKey: 'StateMachineArn', OutputValue: 'arn:aws:states:eu-west-1:123456789012:stateMachine:Seg' },
  { OutputKey: STACK_OUTPUT_KEYS.releaseFunctionName, OutputValue: FUNCTION },
];

/** One expiry for every item: computed per call, two items made a second apart would differ. */
const EXPIRES_AT = Math.floor(Date.now() / 1000) + 86_400;

/** A quarantine item exactly as DynamoQuarantineStore writes it (flat attributes). */
const item = (recipient: string, changes: Partial<QuarantineItem> = {}): QuarantineItem => ({
  messageId: MESSAGE,
  recipient,
  sender: 'alice@sender.example',
  subject: 'Your invoice',
  score: 1000,
  symbols: 'GTUBE',
  reason: 'GTUBE test string',
  status: 'QUARANTINED',
  receivedAt: '2026-11-28T10:00:00.000Z',
  messageKey: KEYS.inbound(MESSAGE),
  // Far in the future: the store hides items DynamoDB TTL has not deleted yet.
  expiresAt: EXPIRES_AT,
  ...changes,
});

const envelope: WorkflowInput = {
  messageId: MESSAGE,
  bucket: BUCKET,
  key: KEYS.inbound(MESSAGE),
  envelope: { mailFrom: 'alice@sender.example', recipients: ['Bob@example.com', 'carol@example.com'] },
  receivedAt: '2026-11-28T10:00:00.000Z',
  direction: 'inbound',
};

/** What GetObject's Body offers; only the byte reader is used by S3MessageStore. */
const body = (value: unknown) =>
  ({
    transformToByteArray: async () => new TextEncoder().encode(JSON.stringify(value)),
  }) as never;

const noSuchKey = () => new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} });

/** Lambda's Invoke answer carrying `value` as the function's JSON result. */
const answer = (value: unknown, functionError?: string) => ({
  StatusCode: 200,
  Payload: new TextEncoder().encode(JSON.stringify(value)) as never,
  ...(functionError ? { FunctionError: functionError } : {}),
});

const cfn = mockClient(CloudFormationClient);
const dynamo = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);
const lambda = mockClient(LambdaClient);
const mocks = [cfn, dynamo, s3, lambda];

const ENV = ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_PROFILE'];
const savedEnv = new Map(ENV.map((name) => [name, process.env[name]]));
beforeAll(() => {
  process.env.AWS_REGION = 'eu-west-1';
  delete process.env.AWS_DEFAULT_REGION;
  delete process.env.AWS_PROFILE;
  process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
  process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
});
afterAll(() => {
  for (const mock of mocks) mock.restore();
  for (const [name, value] of savedEnv) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});
beforeEach(() => {
  for (const mock of mocks) mock.reset();
  cfn.on(DescribeStacksCommand, { StackName: STACK }).resolves({
    Stacks: [
      {
        StackName: STACK,
        StackStatus: 'CREATE_COMPLETE',
        CreationTime: new Date('2026-11-01T00:00:00Z'),
        Outputs: STACK_OUTPUTS,
      },
    ],
  });
});

/** Runs the command, collecting what it writes to stdout and stderr. */
async function run(
  action: Parameters<typeof quarantineCommand>[0],
  args: Parameters<typeof quarantineCommand>[1],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const collect = (into: string[]) =>
    ((chunk: string | Uint8Array) => {
      into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    }) as typeof process.stdout.write;
  const stdoutWrite = process.stdout.write;
  const stderrWrite = process.stderr.write;
  process.stdout.write = collect(out);
  process.stderr.write = collect(err);
  try {
    const code = await quarantineCommand(action, args);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = stdoutWrite;
    process.stderr.write = stderrWrite;
  }
}

/** The Release function's payloads, in call order. */
const releasePayloads = () =>
  lambda.commandCalls(InvokeCommand).map((call) => {
    const { FunctionName, Payload } = call.args[0].input;
    const text = typeof Payload === 'string' ? Payload : new TextDecoder().decode(Payload as Uint8Array);
    return { FunctionName, payload: JSON.parse(text) as unknown };
  });

describe('seg quarantine --stack', () => {
  it('lists the QUARANTINED items from the byStatus index of the stack quarantine table', async () => {
    const items = [item('bob@example.com'), item('carol@example.com', { subject: 'Second' })];
    dynamo.on(QueryCommand).resolves({ Items: items });

    const { code, stdout } = await run('list', { stack: STACK, json: true });

    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual(items);
    const described = cfn.commandCalls(DescribeStacksCommand);
    expect(described).toHaveLength(1);
    // The stack is looked up in the region of the environment, not the SDK's default.
    const client = described[0]!.thisValue as CloudFormationClient;
    await expect(client.config.region()).resolves.toBe('eu-west-1');
    const queries = dynamo.commandCalls(QueryCommand);
    expect(queries).toHaveLength(1);
    const query = queries[0]!.args[0].input;
    expect(query.TableName).toBe(TABLE);
    expect(query.IndexName).toBe(QUARANTINE_TABLE.indexes.byStatus.name);
    expect(query.ExpressionAttributeValues?.[':v']).toBe('QUARANTINED');
    expect(query.ScanIndexForward).toBe(false);
  });

  it('lists by recipient, lowercased, through the byRecipient index and prints a table', async () => {
    dynamo.on(QueryCommand).resolves({ Items: [item('bob@example.com')] });

    const { code, stdout } = await run('list', { stack: STACK, recipient: 'Bob@Example.com' });

    expect(code).toBe(0);
    const query = dynamo.commandCalls(QueryCommand)[0]!.args[0].input;
    expect(query.IndexName).toBe(QUARANTINE_TABLE.indexes.byRecipient.name);
    expect(query.ExpressionAttributeValues?.[':v']).toBe('bob@example.com');
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^RECEIVED\s+MESSAGE ID\s+RECIPIENT\s+STATUS/);
    expect(lines[1]).toContain(MESSAGE);
    expect(lines[1]).toContain('bob@example.com');
    expect(lines[1]).toContain('GTUBE test string');
    expect(lines).toHaveLength(2);
  });

  it('shows the items of the envelope recipients with the verdict trace from the stack bucket', async () => {
    const trace = { messageId: MESSAGE, envelope: envelope.envelope, verdict: { action: 'quarantine' } };
    s3.on(GetObjectCommand, { Bucket: BUCKET, Key: KEYS.envelope(MESSAGE) }).resolves({
      Body: body(envelope),
    });
    s3.on(GetObjectCommand, { Bucket: BUCKET, Key: KEYS.verdict(MESSAGE) }).resolves({ Body: body(trace) });
    dynamo
      .on(GetCommand, { TableName: TABLE, Key: { messageId: MESSAGE, recipient: 'bob@example.com' } })
      .resolves({ Item: item('bob@example.com') });
    dynamo.on(GetCommand, { Key: { messageId: MESSAGE, recipient: 'carol@example.com' } }).resolves({});

    const { code, stdout } = await run('show', { stack: STACK, messageId: MESSAGE, json: true });

    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ items: [item('bob@example.com')], trace });
    const keys = dynamo.commandCalls(GetCommand).map((c) => c.args[0].input.Key);
    expect(keys).toEqual(
      expect.arrayContaining([
        { messageId: MESSAGE, recipient: 'bob@example.com' },
        { messageId: MESSAGE, recipient: 'carol@example.com' },
      ]),
    );
  });

  it('invokes the stack Release function with {messageId, recipient} and exits 0 when it released', async () => {
    dynamo
      .on(GetCommand, { TableName: TABLE, Key: { messageId: MESSAGE, recipient: 'bob@example.com' } })
      .resolves({ Item: item('bob@example.com') });
    const released: ReleaseResult = { released: true, messageId: MESSAGE, recipient: 'bob@example.com' };
    lambda.on(InvokeCommand).resolves(answer(released));

    const { code, stdout } = await run('release', {
      stack: STACK,
      messageId: MESSAGE,
      recipient: 'Bob@example.com',
    });

    expect(code).toBe(0);
    expect(releasePayloads()).toEqual([
      { FunctionName: FUNCTION, payload: { messageId: MESSAGE, recipient: 'bob@example.com' } },
    ]);
    expect(stdout).toBe(`released ${MESSAGE} to bob@example.com\n`);
  });

  it('exits 1 with the reason when the Release function answers it released nothing', async () => {
    dynamo.on(GetCommand).resolves({ Item: item('bob@example.com') });
    lambda.on(InvokeCommand).resolves(
      answer({
        released: false,
        messageId: MESSAGE,
        recipient: 'bob@example.com',
        reason: 'already delivered',
      } satisfies ReleaseResult),
    );

    const { code, stdout } = await run('release', {
      stack: STACK,
      messageId: MESSAGE,
      recipient: 'bob@example.com',
    });

    expect(code).toBe(1);
    expect(releasePayloads()).toHaveLength(1);
    expect(stdout).toBe(`not released ${MESSAGE} for bob@example.com: already delivered\n`);
  });

  it('releases every still-held recipient of the envelope and skips the ones already released', async () => {
    s3.on(GetObjectCommand, { Key: KEYS.envelope(MESSAGE) }).resolves({ Body: body(envelope) });
    s3.on(GetObjectCommand, { Key: KEYS.verdict(MESSAGE) }).rejects(noSuchKey());
    dynamo
      .on(GetCommand, { Key: { messageId: MESSAGE, recipient: 'bob@example.com' } })
      .resolves({ Item: item('bob@example.com', { status: 'RELEASED' }) })
      .on(GetCommand, { Key: { messageId: MESSAGE, recipient: 'carol@example.com' } })
      .resolves({ Item: item('carol@example.com', { status: 'DELIVERY_FAILED' }) });
    lambda
      .on(InvokeCommand)
      .resolves(answer({ released: true, messageId: MESSAGE, recipient: 'carol@example.com' }));

    const { code, stdout } = await run('release', { stack: STACK, messageId: MESSAGE });

    expect(code).toBe(0);
    expect(releasePayloads()).toEqual([
      { FunctionName: FUNCTION, payload: { messageId: MESSAGE, recipient: 'carol@example.com' } },
    ]);
    expect(stdout).toBe(`released ${MESSAGE} to carol@example.com\n`);
  });

  it('goes on releasing the other recipients when one release fails', async () => {
    s3.on(GetObjectCommand, { Key: KEYS.envelope(MESSAGE) }).resolves({ Body: body(envelope) });
    s3.on(GetObjectCommand, { Key: KEYS.verdict(MESSAGE) }).rejects(noSuchKey());
    dynamo
      .on(GetCommand)
      .callsFake((input: { Key: { recipient: string } }) => ({ Item: item(input.Key.recipient) }));
    lambda
      .on(InvokeCommand)
      .resolvesOnce(answer({ errorType: 'TransientError', errorMessage: 'ledger busy' }, 'Unhandled'))
      .resolves(answer({ released: true, messageId: MESSAGE, recipient: 'carol@example.com' }));

    const { code, stdout, stderr } = await run('release', { stack: STACK, messageId: MESSAGE });

    expect(code).toBe(1);
    expect(releasePayloads().map((p) => (p.payload as { recipient: string }).recipient)).toEqual([
      'bob@example.com',
      'carol@example.com',
    ]);
    expect(stderr).toContain('Release function failed: TransientError: ledger busy');
    expect(stdout).toContain(`released ${MESSAGE} to carol@example.com`);
  });

  it('exits 1 without invoking Release when no recipient is still held', async () => {
    s3.on(GetObjectCommand, { Key: KEYS.envelope(MESSAGE) }).resolves({ Body: body(envelope) });
    s3.on(GetObjectCommand, { Key: KEYS.verdict(MESSAGE) }).rejects(noSuchKey());
    dynamo.on(GetCommand).resolves({ Item: item('bob@example.com', { status: 'RELEASED' }) });

    const { code, stderr } = await run('release', { stack: STACK, messageId: MESSAGE });

    expect(code).toBe(1);
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
    expect(stderr).toContain(`nothing to release for ${MESSAGE}`);
  });

  it('exits 1 naming the error when the Release function itself fails', async () => {
    dynamo.on(GetCommand).resolves({ Item: item('bob@example.com') });
    lambda
      .on(InvokeCommand)
      .resolves(answer({ errorType: 'TransientError', errorMessage: 'ledger busy' }, 'Unhandled'));

    const { code, stderr } = await run('release', {
      stack: STACK,
      messageId: MESSAGE,
      recipient: 'bob@example.com',
    });

    expect(code).toBe(1);
    expect(stderr).toContain('Release function failed: TransientError: ledger busy');
  });

  it('exits 1 with a clear error when the stack has none of the seg outputs', async () => {
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: STACK,
          StackStatus: 'CREATE_COMPLETE',
          CreationTime: new Date('2026-11-01T00:00:00Z'),
          Outputs: [{ OutputKey: 'SomethingElse', OutputValue: 'x' }],
        },
      ],
    });

    const { code, stderr } = await run('list', { stack: STACK });

    expect(code).toBe(1);
    expect(stderr).toMatch(/stack SegStack has no output \w+; is it a seg stack\?/);
    expect(dynamo.calls()).toHaveLength(0);
  });

  it('exits 1 naming the stack when CloudFormation does not know it', async () => {
    cfn
      .on(DescribeStacksCommand)
      .rejects(
        Object.assign(new Error(`Stack with id ${STACK} does not exist`), { name: 'ValidationError' }),
      );

    const { code, stderr } = await run('list', { stack: STACK });

    expect(code).toBe(1);
    expect(stderr).toContain(`cannot read stack ${STACK}: Stack with id ${STACK} does not exist`);
  });
});
