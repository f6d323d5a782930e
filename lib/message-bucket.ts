// The S3 bucket that holds every message (inbound/), its envelope (envelopes/) and verdict trace
// (verdicts/), plus its server access log bucket. It grants SES nothing by itself: the receipt
// rules add the SES write permission for their own prefix.

import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { PREFIXES } from '../lambdas/handlers/access.ts';

export interface MessageBucketProps {
  /** Days after which raw messages, envelopes, parse results and verdicts expire. */
  readonly messageDays: number;
  /**
   * Keep noncurrent versions (and protect against accidental overwrite) for this many days.
   * @default - versioning off: message keys are unique per message and never rewritten
   */
  readonly noncurrentVersionDays?: number;
  /**
   * What happens to the bucket when the stack is deleted.
   * @default RemovalPolicy.RETAIN - mail is evidence; deleting the stack must not delete it
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Days to keep server access logs.
   * @default 90
   */
  readonly accessLogDays?: number;
}

/** The message bucket and its access log bucket, both private, encrypted and TLS-only. */
export class MessageBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogs: s3.Bucket;

  constructor(scope: Construct, id: string, props: MessageBucketProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(props.accessLogDays ?? 90) }],
      removalPolicy,
    });
    Validations.of(this.accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the access log bucket of the message bucket; logging it into itself would loop.',
    });

    const expire = Duration.days(props.messageDays);
    const versioned = props.noncurrentVersionDays !== undefined;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      // SSE-S3 lets the SES S3 action write without a KMS key policy for ses.amazonaws.com.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'messages/',
      lifecycleRules: [
        ...Object.values(PREFIXES).map((prefix) => ({
          id: `expire-${prefix.replace('/', '')}`,
          prefix,
          expiration: expire,
          ...(versioned
            ? { noncurrentVersionExpiration: Duration.days(props.noncurrentVersionDays ?? 1) }
            : {}),
        })),
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy,
    });
  }
}
