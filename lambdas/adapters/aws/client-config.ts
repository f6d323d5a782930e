// The settings every AWS SDK client gets: region, an optional local endpoint with static keys, and
// connection and request timeouts. It imports no SDK client, so a Lambda bundle pulls in only the
// clients its own adapters construct.

/** Where and how a client connects. */
export interface AwsClientOptions {
  /** @default process.env.AWS_REGION, else 'us-east-1' */
  readonly region?: string;
  /** A local server, e.g. 'http://127.0.0.1:4569'. When set, static credentials are used. */
  readonly endpoint?: string;
  /** @default s3rver's key pair (S3RVER/S3RVER) when `endpoint` is set */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** @default SDK_TIMEOUTS */
  readonly timeouts?: { readonly connectionMs: number; readonly requestMs: number };
}

/**
 * Without timeouts a call to an unreachable endpoint (a VPC subnet with no NAT or endpoint for the
 * service) hangs until the Lambda itself times out, and the workflow sees a timeout instead of the
 * cause. 3 s covers a TCP + TLS handshake inside a region many times over; 20 s of socket silence is
 * far beyond any answer S3, DynamoDB, SQS, Step Functions or Secrets Manager gives to these calls, and
 * with the SDK's 3 attempts it still ends inside the shortest function timeout (decide, 25 s) only for
 * connection failures; a silent service is the rare case that may still reach the function timeout.
 */
export const SDK_TIMEOUTS = { connectionMs: 3_000, requestMs: 20_000 } as const;

/** s3rver accepts only its built-in key pair; dynalite accepts any. */
const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/** The constructor settings shared by every client. */
export function clientConfig(options: AwsClientOptions = {}) {
  const region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const timeouts = options.timeouts ?? SDK_TIMEOUTS;
  // The SDK builds its NodeHttpHandler from these constructor options itself. Recent handlers only warn
  // when requestTimeout passes unless told to throw.
  const requestHandler = {
    connectionTimeout: timeouts.connectionMs,
    requestTimeout: timeouts.requestMs,
    throwOnRequestTimeout: true,
  };
  if (!options.endpoint)
    return { region, requestHandler, ...(options.credentials ? { credentials: options.credentials } : {}) };
  return {
    region,
    requestHandler,
    endpoint: options.endpoint,
    credentials: options.credentials ?? LOCAL_CREDENTIALS,
  };
}

/** S3 settings. With an endpoint: path-style addressing and checksums only when required. */
export function s3ClientConfig(options: AwsClientOptions = {}) {
  if (!options.endpoint) return clientConfig(options);
  return {
    ...clientConfig(options),
    forcePathStyle: true,
    // Recent SDKs send aws-chunked bodies with trailing checksums by default; s3rver cannot read them.
    requestChecksumCalculation: 'WHEN_REQUIRED' as const,
    responseChecksumValidation: 'WHEN_REQUIRED' as const,
  };
}
