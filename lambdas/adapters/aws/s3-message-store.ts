// MessageStore on S3: raw messages, envelopes, parsed JSON and verdict traces under one bucket.
// It does not retry beyond the SDK's own retries; callers map failures to TransientError.

import {
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { NotFoundError } from '../../errors.ts';
import type { MessageStore } from '../../ports/index.ts';

export class S3MessageStore implements MessageStore {
  private readonly client: S3Client;
  private readonly bucket: string;

  constructor(props: { readonly client: S3Client; readonly bucket: string }) {
    this.client = props.client;
    this.bucket = props.bucket;
  }

  /**
   * Throws NotFoundError when the key does not exist. Without s3:ListBucket, S3 answers a missing key
   * with 403 AccessDenied rather than 404, and our functions have no ListBucket: both mean "absent".
   */
  async get(key: string): Promise<Uint8Array> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!out.Body) throw new NotFoundError(`s3://${this.bucket}/${key} has no body`);
      return await out.Body.transformToByteArray();
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (error instanceof NoSuchKey || name === 'NoSuchKey' || name === 'AccessDenied') {
        throw new NotFoundError(`s3://${this.bucket}/${key} does not exist or is not readable`, {
          cause: error,
        });
      }
      throw error;
    }
  }

  async put(key: string, body: Uint8Array | string, contentType?: string): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ...(contentType ? { ContentType: contentType } : {}),
      }),
    );
  }

  async *list(prefix: string): AsyncIterable<{ key: string; lastModified: Date }> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key) yield { key: object.Key, lastModified: object.LastModified ?? new Date(0) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
}
