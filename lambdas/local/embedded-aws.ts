// Embedded AWS-compatible servers for the local runtime: s3rver (S3) and dynalite (DynamoDB) on
// loopback, with data under <dataDir>. It creates the bucket and tables, and writes endpoints.json so
// the CLI can reach a running `seg serve`. It does not build SDK clients or adapters (local-deps.ts does).
// startS3rver/startDynalite start one bare server each; the test helpers start theirs with them too.

import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createTables } from '../adapters/aws/table-schemas.ts';
import type { SegConfig } from '../config/schema.ts';

const require = createRequire(import.meta.url);

/** The parts of s3rver we use (it ships no types). */
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  readonly store: S3rverStore;
}

/** An object as s3rver's store receives it. */
interface S3rverObject {
  readonly bucket: string;
  readonly key: string;
  readonly content: Buffer | AsyncIterable<Buffer>;
  readonly metadata: unknown;
}

/** The parts of s3rver's FilesystemStore the durable put needs. */
export interface S3rverStore {
  getResourcePath(bucket: string, key: string, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: unknown, md5: string): Promise<void>;
  putObject(object: S3rverObject): Promise<{ size: number; md5: string }>;
}

/** s3rver's own metadata rule: these standard headers and every x-amz-meta-* header are kept. */
const { ALLOWED_METADATA } = require('s3rver/lib/models/object') as { ALLOWED_METADATA: readonly string[] };

/** Writes `path` so that a reader, or a process killed at any instant, sees its old or its new content. */
async function replaceFile(path: string, content: string | Buffer): Promise<void> {
  const staged = `${path}.${process.pid}.${randomUUID()}.tmp`;
  await writeFile(staged, content);
  await rename(staged, path);
}

/**
 * Makes `store` answer a PUT only once the object and its metadata are written, each file replaced whole.
 * s3rver resolves its own putObject before its write stream has even opened the file, and rewrites a
 * file in place (truncate, then write): a process killed right after a 200 lost the object, and one killed
 * while an object was written again (the listener records an envelope, then ingest records it once more)
 * left it empty, so a 250 the gateway gave lost the message's envelope. Written files survive the process
 * being killed; a power cut would need fsync, which the local runtime does not pay for.
 */
export function makeDurable(store: S3rverStore): void {
  store.putMetadata = async (bucket, key, metadata, md5) => {
    const fields = (metadata ?? {}) as Record<string, unknown>;
    const kept = Object.fromEntries(
      Object.entries(fields).filter(
        ([name]) => ALLOWED_METADATA.includes(name) || name.startsWith('x-amz-meta-'),
      ),
    );
    if (md5) await replaceFile(store.getResourcePath(bucket, key, 'object.md5'), md5);
    await replaceFile(store.getResourcePath(bucket, key, 'metadata.json'), JSON.stringify(kept, null, 2));
  };
  store.putObject = async (object) => {
    let content: Buffer;
    if (Buffer.isBuffer(object.content)) content = object.content;
    else {
      const chunks: Buffer[] = [];
      for await (const chunk of object.content) chunks.push(chunk);
      content = Buffer.concat(chunks);
    }
    const objectPath = store.getResourcePath(object.bucket, object.key, 'object');
    await mkdir(dirname(objectPath), { recursive: true });
    await replaceFile(objectPath, content);
    const md5 = createHash('md5').update(content).digest('hex');
    await store.putMetadata(object.bucket, object.key, object.metadata, md5);
    return { size: content.length, md5 };
  };
}
type S3rverCtor = new (options: Record<string, unknown>) => S3rverInstance;
type DynaliteFactory = (options: Record<string, unknown>) => Server;

/** One embedded server listening on 127.0.0.1. */
export interface EmbeddedServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Stops listening (and, for s3rver, rejects if it fails to). */
  close(): Promise<void>;
}

export interface S3rverOptions {
  /** Folder holding the buckets and objects. */
  readonly directory: string;
  /** @default 0 (random) */
  readonly port?: number;
  /** Buckets to create at start. @default none */
  readonly buckets?: readonly string[];
}

/** Starts s3rver (S3) on 127.0.0.1, quiet, with its data under `directory`. */
export async function startS3rver(options: S3rverOptions): Promise<EmbeddedServer> {
  const S3rver = require('s3rver') as S3rverCtor;
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    silent: true,
    directory: options.directory,
    ...(options.buckets ? { configureBuckets: options.buckets.map((name) => ({ name })) } : {}),
  });
  makeDurable(server.store);
  const { port } = await server.run();
  return { url: `http://127.0.0.1:${port}`, port, close: () => server.close() };
}

export interface DynaliteOptions {
  /** LevelDB folder for the tables. @default none: in memory */
  readonly path?: string;
  /** @default 0 (random) */
  readonly port?: number;
}

/** Starts dynalite (DynamoDB) on 127.0.0.1; tables it creates are ACTIVE at once. */
export async function startDynalite(options: DynaliteOptions = {}): Promise<EmbeddedServer> {
  const dynalite = require('dynalite') as DynaliteFactory;
  // createTableMs 0: tables are ACTIVE at once, so the first message needs no wait.
  const server = dynalite({
    ...(options.path ? { path: options.path } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  const { port } = await listen(server, options.port ?? 0);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Fixed names inside the embedded servers: one gateway per data folder. */
export const LOCAL_RESOURCES = {
  bucket: 'seg-messages',
  quarantineTable: 'seg-quarantine',
  ledgerTable: 'seg-ledger',
  region: 'us-east-1',
  /** s3rver accepts only its built-in key pair; dynalite accepts any. */
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
} as const;

/** Where the embedded servers listen and what they hold. Written to <dataDir>/endpoints.json. */
export interface EmbeddedEndpoints {
  readonly s3: string;
  readonly dynamodb: string;
  readonly bucket: string;
  readonly quarantineTable: string;
  readonly ledgerTable: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Process that owns the servers (the LevelDB lock holder). */
  readonly pid: number;
  /** ISO-8601 time that process started: workflows of messages received earlier died with its predecessor. */
  readonly startedAt?: string;
  /** The configuration the owning `seg serve` runs with, so the CLI delivers releases the same way. */
  readonly config?: SegConfig;
  /** The SES emulator of the owning serve's outbound side (when it has submitters): releases send there. */
  readonly ses?: string;
}

export interface EmbeddedAws {
  readonly endpoints: EmbeddedEndpoints;
  /** Stops both servers and removes endpoints.json if this process wrote it. */
  stop(): Promise<void>;
}

export interface EmbeddedAwsOptions {
  readonly dataDir: string;
  /** @default 0 (random) */
  readonly s3Port?: number;
  /** @default 0 (random) */
  readonly dynamodbPort?: number;
  /**
   * Publish endpoints.json so other processes (the CLI) use these servers instead of opening the store.
   * @default true
   */
  readonly publish?: boolean;
  /** Published with the endpoints. */
  readonly config?: SegConfig;
}

/** Thrown when another process holds the data folder's DynamoDB store and publishes no endpoints. */
export class DataDirBusyError extends Error {
  override readonly name = 'DataDirBusyError';
}

export const endpointsFile = (dataDir: string): string => join(dataDir, 'endpoints.json');

/** Starts s3rver and dynalite on 127.0.0.1 with data under dataDir, and creates the bucket and tables. */
export async function startEmbeddedAws(options: EmbeddedAwsOptions): Promise<EmbeddedAws> {
  const { dataDir } = options;
  const s3Dir = join(dataDir, 's3');
  const dynamoDir = join(dataDir, 'dynamodb');
  mkdirSync(s3Dir, { recursive: true });
  mkdirSync(dynamoDir, { recursive: true });
  // LevelDB admits one opener, and dynalite only finds out at the first request (and then throws
  // outside any callback): take our own lock first, so a second opener gets a clear error instead.
  const unlock = acquireLock(dataDir);

  let s3: EmbeddedServer;
  try {
    s3 = await startS3rver({
      directory: s3Dir,
      port: options.s3Port ?? 0,
      buckets: [LOCAL_RESOURCES.bucket],
    });
  } catch (cause) {
    unlock();
    throw cause;
  }

  let dynamo: EmbeddedServer;
  try {
    dynamo = await startDynalite({ path: dynamoDir, port: options.dynamodbPort ?? 0 });
  } catch (cause) {
    await s3.close();
    unlock();
    throw cause;
  }

  const endpoints: EmbeddedEndpoints = {
    s3: s3.url,
    dynamodb: dynamo.url,
    bucket: LOCAL_RESOURCES.bucket,
    quarantineTable: LOCAL_RESOURCES.quarantineTable,
    ledgerTable: LOCAL_RESOURCES.ledgerTable,
    region: LOCAL_RESOURCES.region,
    credentials: LOCAL_RESOURCES.credentials,
    pid: process.pid,
    startedAt: new Date().toISOString(),
    ...(options.config ? { config: options.config } : {}),
  };

  const stop = async () => {
    if (options.publish !== false) removeOwnEndpointsFile(dataDir);
    await s3.close().catch(() => undefined);
    await dynamo.close();
    unlock();
  };

  try {
    const client = new DynamoDBClient({
      endpoint: endpoints.dynamodb,
      region: endpoints.region,
      credentials: endpoints.credentials,
    });
    try {
      await createTables(client, { quarantine: endpoints.quarantineTable, ledger: endpoints.ledgerTable });
    } finally {
      client.destroy();
    }
  } catch (cause) {
    await stop();
    throw cause;
  }

  if (options.publish !== false)
    writeFileSync(endpointsFile(dataDir), `${JSON.stringify(endpoints, null, 2)}\n`);
  return { endpoints, stop };
}

/**
 * The endpoints of a `seg serve` running on this data folder, or undefined when none is: the file is
 * missing, its process is gone, or its servers do not answer.
 */
export async function readRunningEndpoints(dataDir: string): Promise<EmbeddedEndpoints | undefined> {
  const file = endpointsFile(dataDir);
  if (!existsSync(file)) return undefined;
  let endpoints: EmbeddedEndpoints;
  try {
    endpoints = JSON.parse(readFileSync(file, 'utf8')) as EmbeddedEndpoints;
  } catch {
    return undefined;
  }
  if (!processAlive(endpoints.pid)) return undefined;
  const answers = await Promise.all([reachable(endpoints.s3), reachable(endpoints.dynamodb)]);
  return answers.every(Boolean) ? endpoints : undefined;
}

/**
 * Uses the servers of a running `seg serve` on this data folder, or starts private ones (unpublished)
 * when none runs. `stop()` stops only what this call started.
 */
export async function openEmbeddedAws(dataDir: string): Promise<EmbeddedAws> {
  const running = await readRunningEndpoints(dataDir);
  if (running) return { endpoints: running, stop: async () => undefined };
  return startEmbeddedAws({ dataDir, publish: false });
}

const lockFile = (dataDir: string): string => join(dataDir, 'dynamodb.lock');

/** Takes <dataDir>/dynamodb.lock for this process; a stale lock (dead process) is taken over. */
function acquireLock(dataDir: string): () => void {
  const file = lockFile(dataDir);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      let held = true;
      return () => {
        if (held) rmSync(file, { force: true });
        held = false;
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number.parseInt(readFileSync(file, 'utf8'), 10);
      if (Number.isInteger(owner) && processAlive(owner)) {
        throw new DataDirBusyError(
          `the data folder ${dataDir} is in use by process ${owner} (a seg serve, or another seg command); stop it or try again when it is done`,
        );
      }
      rmSync(file, { force: true });
    }
  }
  throw new DataDirBusyError(`cannot lock the data folder ${dataDir}`);
}

function listen(server: Server, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function reachable(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return true;
  } catch {
    return false;
  }
}

/** Adds the SES emulator's URL to the endpoints this process published (the outbound side starts later). */
export function publishSesEndpoint(dataDir: string, url: string): void {
  const file = endpointsFile(dataDir);
  try {
    const current = JSON.parse(readFileSync(file, 'utf8')) as EmbeddedEndpoints;
    if (current.pid === process.pid)
      writeFileSync(file, `${JSON.stringify({ ...current, ses: url }, null, 2)}\n`);
  } catch {
    // Not published (publish: false): no other process looks for it.
  }
}

function removeOwnEndpointsFile(dataDir: string): void {
  const file = endpointsFile(dataDir);
  try {
    const current = JSON.parse(readFileSync(file, 'utf8')) as EmbeddedEndpoints;
    if (current.pid === process.pid) rmSync(file, { force: true });
  } catch {
    // Missing or unreadable: nothing of ours to remove.
  }
}
