// `seg quarantine list|show|release|delete`: reviews held messages. Locally it uses the data folder
// (through a running `seg serve`, or by opening the embedded stores itself) and the SAME release
// handler in-process; with --stack it reads the deployed tables and invokes the deployed Release function.

import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  createDynamoClient,
  createS3Client,
  createSesClient,
} from '../../lambdas/adapters/aws/aws-clients.ts';
import { DynamoQuarantineStore } from '../../lambdas/adapters/aws/dynamo-quarantine-store.ts';
import { S3MessageStore } from '../../lambdas/adapters/aws/s3-message-store.ts';
import { SesOutboundSender } from '../../lambdas/adapters/aws/ses-sender.ts';
import { KEYS } from '../../lambdas/handlers/deps.ts';
import type { ReleaseResult } from '../../lambdas/handlers/release.ts';
import { loadOptionalJson, readTrace } from '../../lambdas/handlers/support.ts';
import { openEmbeddedAws, readRunningEndpoints } from '../../lambdas/local/embedded-aws.ts';
import { loadLocalConfig } from '../../lambdas/local/local-config.ts';
import { buildLocalHandlers, localDeps, refusingStarter } from '../../lambdas/local/local-deps.ts';
import type {
  MessageStore,
  QuarantineItem,
  QuarantineStatus,
  QuarantineStore,
  WorkflowInput,
} from '../../lambdas/ports/index.ts';

export type QuarantineAction = 'list' | 'show' | 'release' | 'delete';

export interface QuarantineArgs {
  readonly messageId?: string;
  readonly recipient?: string;
  readonly json?: boolean;
  readonly status?: string;
  /** A deployed stack's name: read its tables and invoke its Release function. */
  readonly stack?: string;
  readonly config?: string;
  readonly dataDir?: string;
  /** Release even an item that holds malware (an administrator's explicit override). */
  readonly force?: boolean;
}

/** The stack outputs this command reads; they match STACK_OUTPUTS in lib/seg-stack.ts (a test checks). */
export const STACK_OUTPUT_KEYS = {
  bucketName: 'BucketName',
  quarantineTableName: 'QuarantineTableName',
  ledgerTableName: 'LedgerTableName',
  releaseFunctionName: 'ReleaseFunctionName',
} as const;

const STATUSES: readonly QuarantineStatus[] = [
  'QUARANTINED',
  'DELIVERY_FAILED',
  'DEFERRED',
  'DELIVERED',
  'RELEASED',
  'DELETED',
  'BLOCKED',
  'UNCONFIRMED',
  'SENT',
];
/** Releasing a DEFERRED item delivers it now instead of at its next retry. */
const RELEASABLE: readonly QuarantineStatus[] = ['QUARANTINED', 'DELIVERY_FAILED', 'DEFERRED'];
/** Message ids as SES and the local listener make them (20-40 letters and digits), with room for others; never a path. */
const MAX_MESSAGE_ID_CHARS = 128;
const MESSAGE_ID = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._-]{0,${MAX_MESSAGE_ID_CHARS - 1}}$`);
/** Statuses an administrator may delete: held ones. A released or delivered item keeps its history. */
const DELETABLE: readonly QuarantineStatus[] = ['QUARANTINED', 'DELIVERY_FAILED', 'DEFERRED', 'BLOCKED'];

/**
 * Text from a message (subject, sender) as one safe terminal line: control characters (ESC sequences,
 * CR/LF that could forge a table row) are shown escaped, never sent to the terminal.
 */
export function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) =>
    c === '\t' ? ' ' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

/** Items listed per call; the table's byStatus index is newest first. */
const LIST_LIMIT = 100;

/** Output goes straight to the streams (not console), so a caller can capture it. */
const print = (text: string) => process.stdout.write(`${text}\n`);
const printError = (text: string) => process.stderr.write(`${text}\n`);

/** A problem with the command line itself (exit code 2). */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Where the quarantine lives: the local data folder or a deployed stack. */
interface Backend {
  readonly store: MessageStore;
  readonly quarantine: QuarantineStore;
  release(messageId: string, recipient: string, force?: boolean): Promise<ReleaseResult>;
  close(): Promise<void>;
}

/** Runs one quarantine action; returns the process exit code (0 ok, 1 failed, 2 bad usage). */
export async function quarantineCommand(action: QuarantineAction, args: QuarantineArgs): Promise<number> {
  let backend: Backend | undefined;
  try {
    const status = (args.status ?? 'QUARANTINED').toUpperCase() as QuarantineStatus;
    if (!STATUSES.includes(status)) throw new UsageError(`--status must be one of ${STATUSES.join(', ')}`);
    if (action !== 'list' && !args.messageId) throw new UsageError(`${action} needs a message id`);
    if (args.messageId !== undefined && !MESSAGE_ID.test(args.messageId))
      throw new UsageError(
        `not a message id: ${printable(args.messageId.slice(0, 60))}${args.messageId.length > 60 ? '…' : ''} (letters, digits, '.', '_' or '-', at most ${MAX_MESSAGE_ID_CHARS} characters)`,
      );
    backend = args.stack ? await stackBackend(args.stack, stackRegion(args)) : await localBackend(args);
    switch (action) {
      case 'list':
        return await list(backend, args, status);
      case 'show':
        return await show(backend, args.messageId!, args);
      case 'release':
        return await release(backend, args.messageId!, args);
      case 'delete':
        return await remove(backend, args.messageId!, args);
      default:
        throw new UsageError(`unknown action ${String(action)}`);
    }
  } catch (error) {
    const e = error as Error;
    printError(`seg quarantine ${action}: ${e.message || String(e)}`);
    return e instanceof UsageError ? 2 : 1;
  } finally {
    await backend?.close();
  }
}

async function list(backend: Backend, args: QuarantineArgs, status: QuarantineStatus): Promise<number> {
  const items = args.recipient
    ? (await backend.quarantine.listByRecipient(args.recipient.toLowerCase(), LIST_LIMIT)).filter(
        (i) => args.status === undefined || i.status === status,
      )
    : await backend.quarantine.listByStatus(status, LIST_LIMIT);
  if (args.json) {
    print(JSON.stringify(items, null, 2));
    return 0;
  }
  if (!items.length) {
    const filter = [
      args.recipient && `for ${args.recipient}`,
      (!args.recipient || args.status) && `with status ${status}`,
    ];
    print(`no messages ${filter.filter(Boolean).join(' ')}`);
  } else printTable(items);
  // The default view is what policy held; deliveries nobody can confirm need a person as much.
  if (args.status === undefined && !args.recipient) {
    const unconfirmed = await backend.quarantine.listByStatus('UNCONFIRMED', LIST_LIMIT);
    if (unconfirmed.length)
      print(
        `\n${unconfirmed.length}${unconfirmed.length >= LIST_LIMIT ? '+' : ''} ${unconfirmed.length === 1 ? 'delivery was' : 'deliveries were'} sent without a reply (UNCONFIRMED): check the mailbox, see seg quarantine list --status UNCONFIRMED`,
      );
  }
  return 0;
}

async function show(backend: Backend, messageId: string, args: QuarantineArgs): Promise<number> {
  const items = await itemsOf(backend, messageId, args.recipient);
  const trace = await readTrace(backend.store, messageId);
  if (!items.length && !trace) {
    printError(`seg quarantine show: no quarantine item or verdict trace for ${messageId}`);
    return 1;
  }
  if (args.json) {
    print(JSON.stringify({ items, trace: trace ?? null }, null, 2));
    return 0;
  }
  if (items.length) printTable(items);
  else print(`${messageId} has no quarantine item`);
  print('\nverdict trace:');
  print(trace ? JSON.stringify(trace, null, 2) : '(none stored)');
  return 0;
}

async function release(backend: Backend, messageId: string, args: QuarantineArgs): Promise<number> {
  const items = await itemsOf(backend, messageId, args.recipient);
  if (!items.length) {
    printError(`seg quarantine release: ${messageId} is not in quarantine`);
    return 1;
  }
  // With no --recipient, release every recipient still held; an explicit one is always attempted, so
  // a repeated release reports why it did nothing.
  // --force also takes unconfirmed deliveries: the administrator checked the mailbox.
  const releasable: readonly QuarantineStatus[] = args.force ? [...RELEASABLE, 'UNCONFIRMED'] : RELEASABLE;
  const targets = args.recipient ? items : items.filter((i) => releasable.includes(i.status));
  if (!targets.length) {
    printError(
      `seg quarantine release: nothing to release for ${messageId} (${items.map((i) => `${i.recipient}: ${i.status}`).join(', ')})`,
    );
    return 1;
  }
  let failed = 0;
  const results: ReleaseResult[] = [];
  for (const item of targets) {
    // One recipient's failure (e.g. its server refused) must not keep the others held.
    const result = await backend
      .release(messageId, item.recipient, args.force)
      .catch((error: Error): ReleaseResult => {
        printError(`seg quarantine release: ${error.message}`);
        return { released: false, messageId, recipient: item.recipient, reason: error.message };
      });
    results.push(result);
    if (!result.released) failed++;
    if (!args.json) {
      print(
        result.released
          ? `released ${messageId} to ${result.recipient}`
          : `not released ${messageId} for ${result.recipient}: ${result.reason}`,
      );
    }
  }
  if (args.json) print(JSON.stringify(results, null, 2));
  return failed ? 1 : 0;
}

async function remove(backend: Backend, messageId: string, args: QuarantineArgs): Promise<number> {
  const all = await itemsOf(backend, messageId, args.recipient);
  const items = all.filter((i) => DELETABLE.includes(i.status));
  if (!items.length) {
    const kept = all.filter((i) => i.status !== 'DELETED');
    printError(
      kept.length
        ? `seg quarantine delete: nothing held to delete for ${messageId} (${kept.map((i) => `${i.recipient}: ${i.status}`).join(', ')}; their history is kept)`
        : `seg quarantine delete: no quarantine item to delete for ${messageId}`,
    );
    return 1;
  }
  for (const item of items) {
    // The raw message stays in S3 until the bucket's lifecycle rule expires it.
    await backend.quarantine.setStatus(messageId, item.recipient, 'DELETED');
    if (!args.json) print(`deleted ${messageId} for ${item.recipient}`);
  }
  if (args.json)
    print(
      JSON.stringify(
        items.map((i) => ({ ...i, status: 'DELETED' })),
        null,
        2,
      ),
    );
  return 0;
}

/** The message's quarantine items: its recipients come from the stored envelope and verdict trace. */
async function itemsOf(backend: Backend, messageId: string, recipient?: string): Promise<QuarantineItem[]> {
  const candidates = new Set<string>();
  if (recipient) candidates.add(recipient.toLowerCase());
  else {
    const [stored, trace] = await Promise.all([
      loadOptionalJson<WorkflowInput>(backend.store, KEYS.envelope(messageId)),
      readTrace(backend.store, messageId),
    ]);
    for (const r of [...(stored?.envelope.recipients ?? []), ...(trace?.envelope.recipients ?? [])]) {
      candidates.add(r.toLowerCase());
    }
  }
  const items = await Promise.all([...candidates].map((r) => backend.quarantine.get(messageId, r)));
  const found = items.filter((i): i is QuarantineItem => i !== undefined);
  if (found.length || recipient) return found;
  // No envelope or trace left (expired objects): look through the status index instead.
  const all = await Promise.all(STATUSES.map((s) => backend.quarantine.listByStatus(s, 1_000)));
  return all.flat().filter((i) => i.messageId === messageId);
}

function printTable(items: readonly QuarantineItem[]): void {
  const rows = items.map((i) =>
    [
      i.receivedAt.replace('T', ' ').slice(0, 19),
      i.messageId,
      i.recipient,
      i.direction === 'outbound' ? `${i.status} (out)` : i.status,
      String(i.score),
      i.sender,
      truncate(printable(i.subject), 40),
      truncate(i.status === 'DEFERRED' ? deferredNote(i) : i.reason, 60),
    ].map(printable),
  );
  const header = ['RECEIVED', 'MESSAGE ID', 'RECIPIENT', 'STATUS', 'SCORE', 'SENDER', 'SUBJECT', 'REASON'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  for (const row of [header, ...rows])
    print(
      row
        .map((cell, c) => cell.padEnd(widths[c]!))
        .join('  ')
        .trimEnd(),
    );
}

/** A queued item's reason is its retry state: attempts, next try and the last error. */
const deferredNote = (i: QuarantineItem) =>
  `${i.attempts ?? 0} attempts, next ${(i.nextAttemptAt ?? '').replace('T', ' ').slice(0, 16)}: ${i.lastError ?? i.reason}`;

const truncate = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** The local data folder: through a running `seg serve`, or by opening the embedded stores here. */
async function localBackend(args: QuarantineArgs): Promise<Backend> {
  const fileConfig = () => loadLocalConfig(args.config).config;
  // The data folder comes from --data-dir, else from the config (default .seg).
  const dataDir = args.dataDir ?? fileConfig().local.dataDir;
  const running = await readRunningEndpoints(dataDir);
  // A running serve publishes its config: releases then go where serve delivers, unless --config says otherwise.
  const config = args.config || !running?.config ? fileConfig() : running.config;
  const aws = await openEmbeddedAws(dataDir);
  const deps = localDeps({ config, endpoints: aws.endpoints, dataDir, starter: refusingStarter });
  // Held outbound mail goes out through the running serve's SES emulator; with none, release says so.
  const ses = running?.ses
    ? createSesClient({
        region: aws.endpoints.region,
        credentials: aws.endpoints.credentials,
        endpoint: running.ses,
      })
    : undefined;
  const handlers = buildLocalHandlers({ ...deps, ...(ses ? { sender: new SesOutboundSender(ses) } : {}) });
  return {
    store: deps.store,
    quarantine: deps.quarantine,
    release: async (messageId, recipient, force) =>
      (await handlers.release({ messageId, recipient, ...(force ? { force } : {}) })) as ReleaseResult,
    async close() {
      deps.close();
      ses?.destroy();
      await aws.stop();
    },
  };
}

/** The stack's region: AWS_REGION / AWS_DEFAULT_REGION, else the config's `region`. */
function stackRegion(args: QuarantineArgs): string {
  return (
    process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || loadLocalConfig(args.config).config.region
  );
}

/** A deployed stack, found by name through its CloudFormation outputs; default AWS credentials. */
async function stackBackend(stackName: string, region: string): Promise<Backend> {
  const cfn = new CloudFormationClient({ region });
  let outputs: Map<string, string>;
  try {
    const described = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = described.Stacks?.[0];
    if (!stack) throw new Error(`stack ${stackName} not found`);
    outputs = new Map((stack.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
  } catch (cause) {
    throw new Error(`cannot read stack ${stackName}: ${(cause as Error).message}`, { cause });
  } finally {
    cfn.destroy();
  }
  const output = (key: string) => {
    const value = outputs.get(key);
    if (!value) throw new Error(`stack ${stackName} has no output ${key}; is it a seg stack?`);
    return value;
  };
  // Every output is read before any client is built, so a wrong stack leaves nothing open.
  const functionName = output(STACK_OUTPUT_KEYS.releaseFunctionName);
  const bucket = output(STACK_OUTPUT_KEYS.bucketName);
  const tableName = output(STACK_OUTPUT_KEYS.quarantineTableName);
  const s3 = createS3Client({ region });
  const dynamo = createDynamoClient({ region });
  const lambda = new LambdaClient({ region });
  return {
    store: new S3MessageStore({ client: s3, bucket }),
    quarantine: new DynamoQuarantineStore({ client: dynamo, tableName }),
    async release(messageId, recipient, force) {
      const payload = JSON.stringify({ messageId, recipient, ...(force ? { force } : {}) });
      const out = await lambda.send(new InvokeCommand({ FunctionName: functionName, Payload: payload }));
      const answer = out.Payload ? Buffer.from(out.Payload).toString('utf8') : 'null';
      if (out.FunctionError) {
        const detail = JSON.parse(answer) as { errorType?: string; errorMessage?: string };
        throw new Error(
          `Release function failed: ${detail.errorType ?? 'Error'}: ${detail.errorMessage ?? answer}`,
        );
      }
      return JSON.parse(answer) as ReleaseResult;
    },
    async close() {
      s3.destroy();
      dynamo.destroy();
      lambda.destroy();
    },
  };
}
