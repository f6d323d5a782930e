// Builds the AWS SDK clients in one place. In Lambda they use the default credential chain; the local
// runtime and tests point them at embedded servers (s3rver, dynalite) with an endpoint and static keys.

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';

/** Where and how a client connects. */
export interface AwsClientOptions {
  /** @default process.env.AWS_REGION, else 'us-east-1' */
  readonly region?: string;
  /** A local server, e.g. 'http://127.0.0.1:4569'. When set, static credentials are used. */
  readonly endpoint?: string;
  /** @default s3rver's key pair (S3RVER/S3RVER) when `endpoint` is set */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/** s3rver accepts only its built-in key pair; dynalite accepts any. */
const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

function common(options: AwsClientOptions) {
  const region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
  if (!options.endpoint)
    return { region, ...(options.credentials ? { credentials: options.credentials } : {}) };
  return { region, endpoint: options.endpoint, credentials: options.credentials ?? LOCAL_CREDENTIALS };
}

/** S3 client. With an endpoint: path-style addressing and checksums only when required. */
export function createS3Client(options: AwsClientOptions = {}): S3Client {
  if (!options.endpoint) return new S3Client(common(options));
  return new S3Client({
    ...common(options),
    forcePathStyle: true,
    // Recent SDKs send aws-chunked bodies with trailing checksums by default; s3rver cannot read them.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export function createDynamoClient(options: AwsClientOptions = {}): DynamoDBClient {
  return new DynamoDBClient(common(options));
}

export function createSfnClient(options: AwsClientOptions = {}): SFNClient {
  return new SFNClient(common(options));
}

export function createSecretsClient(options: AwsClientOptions = {}): SecretsManagerClient {
  return new SecretsManagerClient(common(options));
}

export function createSqsClient(options: AwsClientOptions = {}): SQSClient {
  return new SQSClient(common(options));
}

export function createSesClient(options: AwsClientOptions = {}): SESv2Client {
  return new SESv2Client(common(options));
}
