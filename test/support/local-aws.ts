// Test helper: s3rver (temp folder) and dynalite (in memory) on 127.0.0.1 with random ports, the
// bucket and both tables created, and real SDK clients built by the production aws-clients module.

import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { createDynamoClient, createS3Client } from '../../lambdas/adapters/aws/aws-clients.ts';
import { createTables, LOCAL_TABLE_NAMES } from '../../lambdas/adapters/aws/table-schemas.ts';

const require = createRequire(import.meta.url);

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverCtor = new (options: Record<string, unknown>) => S3rverInstance;
type DynaliteFactory = (options: Record<string, unknown>) => Server;

export interface LocalAws {
  readonly s3: S3Client;
  readonly dynamo: DynamoDBClient;
  readonly bucket: string;
  readonly tables: { readonly quarantine: string; readonly ledger: string };
  readonly endpoints: { readonly s3: string; readonly dynamo: string };
  stop(): Promise<void>;
}

/** Starts both servers, creates the bucket `seg-test` and the tables (LOCAL_TABLE_NAMES). */
export async function startLocalAws(): Promise<LocalAws> {
  const dir = await mkdtemp(join(tmpdir(), 'seg-s3rver-'));
  const S3rver = require('s3rver') as S3rverCtor;
  const s3rver = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir });
  const s3Address = await s3rver.run();

  const dynalite = (require('dynalite') as DynaliteFactory)({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  const dynamoAddress = await new Promise<AddressInfo>((resolve, reject) => {
    dynalite.once('error', reject);
    dynalite.listen(0, '127.0.0.1', () => resolve(dynalite.address() as AddressInfo));
  });

  const endpoints = {
    s3: `http://127.0.0.1:${s3Address.port}`,
    dynamo: `http://127.0.0.1:${dynamoAddress.port}`,
  };
  const s3 = createS3Client({ endpoint: endpoints.s3, region: 'us-east-1' });
  const dynamo = createDynamoClient({ endpoint: endpoints.dynamo, region: 'us-east-1' });
  const bucket = 'seg-test';
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await createTables(dynamo);

  return {
    s3,
    dynamo,
    bucket,
    tables: LOCAL_TABLE_NAMES,
    endpoints,
    async stop() {
      s3.destroy();
      dynamo.destroy();
      await s3rver.close();
      await new Promise<void>((resolve) => dynalite.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
