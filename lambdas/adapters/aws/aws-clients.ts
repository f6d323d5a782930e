// Builds the AWS SDK clients for the local runtime, the CLI and tests, pointed at embedded servers
// (s3rver, dynalite) with an endpoint and static keys or at AWS with the default credential chain.
// Lambda entries do not import this module: each adapter builds its own client (see deps.ts).

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { type AwsClientOptions, clientConfig, s3ClientConfig } from './client-config.ts';

export type { AwsClientOptions } from './client-config.ts';

export function createS3Client(options: AwsClientOptions = {}): S3Client {
  return new S3Client(s3ClientConfig(options));
}

export function createDynamoClient(options: AwsClientOptions = {}): DynamoDBClient {
  return new DynamoDBClient(clientConfig(options));
}

export function createSfnClient(options: AwsClientOptions = {}): SFNClient {
  return new SFNClient(clientConfig(options));
}

export function createSecretsClient(options: AwsClientOptions = {}): SecretsManagerClient {
  return new SecretsManagerClient(clientConfig(options));
}

export function createSqsClient(options: AwsClientOptions = {}): SQSClient {
  return new SQSClient(clientConfig(options));
}

export function createSesClient(options: AwsClientOptions = {}): SESv2Client {
  return new SESv2Client(clientConfig(options));
}
