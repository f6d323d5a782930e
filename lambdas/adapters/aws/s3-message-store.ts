// MessageStore on S3: raw messages, envelopes and verdict traces under one bucket.
// It does not retry beyond the SDK's own retries; callers map failures to TransientError.

import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { NotFoundError } from '../../errors.ts';
import { ENV } from '../../handlers/deps.ts';
import type { MessageStore } from '../../ports/index.ts';
import { s3ClientConfig } from './client-config.ts';
import type { BuildContext } from './deps.ts';

export class S3MessageStore implements MessageStore {
  private readonly client: S3Client;
  private readonly bucket: string;

  private readonly pageSize: number;

  /** @param props.pageSize keys per list request (S3's maximum, 1000, unless a test wants small pages) */
  constructor(props: { readonly client: S3Client; readonly bucket: string; readonly pageSize?: number }) {
    this.client = props.client;
    this.bucket = props.bucket;
    this.pageSize = props.pageSize ?? 1000;
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

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (error) {
      const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
      const status = e.$metadata?.httpStatusCode;
      if (e.name === 'NotFound' || e.name === 'NoSuchKey' || status === 404 || status === 403) return false;
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

  /**
   * Pages with ListObjects (v1) and Marker = the last key seen. S3 serves both list versions the same;
   * v1 is used because s3rver's v2 continuation tokens need the DES cipher, which Node 22's OpenSSL 3
   * no longer offers, so v2 fails past the first page locally and the runtimes would differ.
   */
  async *list(prefix: string): AsyncIterable<{ key: string; lastModified: Date }> {
    let marker: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsCommand({
          Bucket: this.bucket,
          Prefix: prefix,
          Marker: marker,
          MaxKeys: this.pageSize,
        }),
      );
      const contents = page.Contents ?? [];
      for (const object of contents) {
        if (object.Key) yield { key: object.Key, lastModified: object.LastModified ?? new Date(0) };
      }
      marker = page.IsTruncated ? contents.at(-1)?.Key : undefined;
    } while (marker);
  }
}

/** The Lambda builder: the message bucket from SEG_BUCKET. */
export const s3MessageStore = (ctx: BuildContext): S3MessageStore =>
  new S3MessageStore({
    client: new S3Client(s3ClientConfig({ region: ctx.region })),
    bucket: ctx.required(ENV.bucket),
  });
