// Test helper: s3rver (temp folder) and dynalite (in memory) on 127.0.0.1 with random ports, started by
// the production embedded-aws module, the bucket and both tables created, and real SDK clients built by
// the production aws-clients module.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { createDynamoClient, createS3Client } from '../../lambdas/adapters/aws/aws-clients.ts';
import { createTables, LOCAL_TABLE_NAMES } from '../../lambdas/adapters/aws/table-schemas.ts';
import { startDynalite, startS3rver } from '../../lambdas/local/embedded-aws.ts';

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
  const s3rver = await startS3rver({ directory: dir });
  const dynalite = await startDynalite();

  const endpoints = { s3: s3rver.url, dynamo: dynalite.url };
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
      await dynalite.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
