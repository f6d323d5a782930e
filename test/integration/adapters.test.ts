// The AWS adapters against s3rver and dynalite with the real SDK: the message store, the disposition
// ledger's conditional claims, and the quarantine store's indexes and expiry filter.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoLedger } from '../../lambdas/adapters/aws/dynamo-ledger.ts';
import { DynamoQuarantineStore } from '../../lambdas/adapters/aws/dynamo-quarantine-store.ts';
import { S3MessageStore } from '../../lambdas/adapters/aws/s3-message-store.ts';
import { NotFoundError, TransientError } from '../../lambdas/errors.ts';
import type { QuarantineItem } from '../../lambdas/ports/index.ts';
import { type LocalAws, startLocalAws } from '../support/local-aws.ts';

let aws: LocalAws;
let now = new Date('2026-03-01T12:00:00Z');
const clock = () => now;

beforeAll(async () => {
  aws = await startLocalAws();
});
afterAll(async () => {
  await aws?.stop();
});

describe('S3MessageStore', () => {
  it('returns the exact bytes it stored', async () => {
    const store = new S3MessageStore({ client: aws.s3, bucket: aws.bucket });
    const bytes = new Uint8Array([0, 13, 10, 255, 128, 65]);
    await store.put('inbound/bytes-1', bytes);
    expect(Buffer.from(await store.get('inbound/bytes-1')).equals(Buffer.from(bytes))).toBe(true);
  });

  it('throws NotFoundError for a missing key', async () => {
    const store = new S3MessageStore({ client: aws.s3, bucket: aws.bucket });
    await expect(store.get('inbound/absent')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('lists keys under a prefix only', async () => {
    const store = new S3MessageStore({ client: aws.s3, bucket: aws.bucket });
    await store.put('list-a/1', 'x');
    await store.put('list-a/2', 'y');
    await store.put('list-b/1', 'z');
    const keys: string[] = [];
    for await (const o of store.list('list-a/')) {
      keys.push(o.key);
      expect(o.lastModified).toBeInstanceOf(Date);
    }
    expect(keys.sort()).toEqual(['list-a/1', 'list-a/2']);
  });

  it('lists every key across pages', async () => {
    const paged = new S3MessageStore({ client: aws.s3, bucket: aws.bucket, pageSize: 2 });
    const written = ['page/1', 'page/2', 'page/3', 'page/4', 'page/5'];
    await Promise.all(written.map((key) => paged.put(key, key)));
    const keys: string[] = [];
    for await (const o of paged.list('page/')) keys.push(o.key);
    expect(keys).toEqual(written);
  });
});

describe('DynamoLedger', () => {
  const ledger = () => new DynamoLedger({ client: aws.dynamo, tableName: aws.tables.ledger, clock });

  it('lets exactly one of two concurrent claims win', async () => {
    const [a, b] = await Promise.all([
      ledger().claim('race-1', 'u@example.com', 'deliver', 60_000),
      ledger().claim('race-1', 'u@example.com', 'deliver', 60_000),
    ]);
    expect([a, b].filter(Boolean)).toHaveLength(1);
  });

  it('refuses a claim once a disposition is settled', async () => {
    const l = ledger();
    expect(await l.claim('settle-1', 'u@example.com', 'deliver', 60_000)).toBe(true);
    await l.settle('settle-1', 'u@example.com', 'DELIVERED', '250 ok');
    expect(await l.claim('settle-1', 'u@example.com', 'quarantine', 60_000)).toBe(false);
    expect(await l.get('settle-1')).toEqual({ 'u@example.com': 'DELIVERED' });
  });

  it('lets a new claim take over an expired lease', async () => {
    const l = ledger();
    expect(await l.claim('lease-1', 'u@example.com', 'deliver', 1_000)).toBe(true);
    expect(await l.claim('lease-1', 'u@example.com', 'deliver', 1_000)).toBe(false);
    now = new Date(now.getTime() + 5_000);
    expect(await l.claim('lease-1', 'u@example.com', 'deliver', 1_000)).toBe(true);
  });

  it('claims from a listed final disposition and restores it on abandon', async () => {
    const l = ledger();
    await l.claim('from-1', 'u@example.com', 'quarantine', 60_000);
    await l.settle('from-1', 'u@example.com', 'QUARANTINED');
    expect(await l.claim('from-1', 'u@example.com', 'deliver', 60_000)).toBe(false);
    expect(await l.claim('from-1', 'u@example.com', 'deliver', 60_000, { from: ['QUARANTINED'] })).toBe(true);
    await l.abandon('from-1', 'u@example.com');
    expect(await l.get('from-1')).toEqual({ 'u@example.com': 'QUARANTINED' });
  });

  it('leaves an abandoned first claim as an expired lease that the next attempt can claim', async () => {
    const l = ledger();
    await l.claim('abandon-1', 'u@example.com', 'deliver', 60_000);
    await l.abandon('abandon-1', 'u@example.com');
    expect(await l.get('abandon-1')).toEqual({ 'u@example.com': 'CLAIMED' });
    expect(await l.claim('abandon-1', 'u@example.com', 'quarantine', 60_000)).toBe(true);
  });

  it('rejects a settle without a claim', async () => {
    await expect(ledger().settle('unclaimed-1', 'u@example.com', 'DELIVERED')).rejects.toBeInstanceOf(
      TransientError,
    );
  });
});

describe('DynamoQuarantineStore', () => {
  const item = (over: Partial<QuarantineItem>): QuarantineItem => ({
    messageId: 'q-1',
    recipient: 'alice@example.com',
    sender: 'spammer@bad.example',
    subject: 'hello',
    score: 12,
    symbols: 'GTUBE',
    reason: 'score 12 >= 10',
    status: 'QUARANTINED',
    receivedAt: '2026-03-01T10:00:00.000Z',
    messageKey: 'inbound/q-1',
    expiresAt: Math.floor(now.getTime() / 1000) + 86_400,
    ...over,
  });

  it('lists by status and by recipient newest first, hiding expired items', async () => {
    const store = new DynamoQuarantineStore({ client: aws.dynamo, tableName: aws.tables.quarantine, clock });
    await store.put(item({ messageId: 'q-old', receivedAt: '2026-03-01T09:00:00.000Z' }));
    await store.put(item({ messageId: 'q-new', receivedAt: '2026-03-01T11:00:00.000Z' }));
    await store.put(item({ messageId: 'q-expired', expiresAt: Math.floor(now.getTime() / 1000) - 1 }));
    await store.put(item({ messageId: 'q-bob', recipient: 'bob@example.com', status: 'DELIVERY_FAILED' }));

    const byStatus = await store.listByStatus('QUARANTINED');
    expect(byStatus.map((i) => i.messageId)).toEqual(['q-new', 'q-old']);
    const byRecipient = await store.listByRecipient('bob@example.com');
    expect(byRecipient.map((i) => [i.messageId, i.status])).toEqual([['q-bob', 'DELIVERY_FAILED']]);
    expect(await store.get('q-expired', 'alice@example.com')).toBeUndefined();
  });

  it('keeps one item when the same key is written twice, and updates its status', async () => {
    const store = new DynamoQuarantineStore({ client: aws.dynamo, tableName: aws.tables.quarantine, clock });
    await store.put(item({ messageId: 'q-twice' }));
    await store.put(item({ messageId: 'q-twice' }));
    await store.setStatus('q-twice', 'alice@example.com', 'RELEASED');
    expect((await store.get('q-twice', 'alice@example.com'))?.status).toBe('RELEASED');
    expect(
      (await store.listByRecipient('alice@example.com')).filter((i) => i.messageId === 'q-twice'),
    ).toHaveLength(1);
  });

  it('lists DEFERRED items due by now, oldest first, within the limit', async () => {
    const store = new DynamoQuarantineStore({ client: aws.dynamo, tableName: aws.tables.quarantine, clock });
    const later = new Date(now.getTime() + 60_000).toISOString();
    const earlier = new Date(now.getTime() - 60_000).toISOString();
    const deferred = (messageId: string, receivedAt: string, nextAttemptAt: string) =>
      item({ messageId, status: 'DEFERRED', receivedAt, attempts: 1, nextAttemptAt });
    await store.put(deferred('d-due-new', '2026-03-01T12:00:00.000Z', earlier));
    await store.put(deferred('d-due-old', '2026-03-01T08:00:00.000Z', now.toISOString()));
    await store.put(deferred('d-not-yet', '2026-03-01T07:00:00.000Z', later));
    await store.put(item({ messageId: 'd-held', status: 'QUARANTINED' }));

    expect((await store.listDue(now, 10)).map((i) => i.messageId)).toEqual(['d-due-old', 'd-due-new']);
    expect((await store.listDue(now, 1)).map((i) => i.messageId)).toEqual(['d-due-old']);
  });

  it('updates an item only while it has the expected status, removing attributes set to undefined', async () => {
    const store = new DynamoQuarantineStore({ client: aws.dynamo, tableName: aws.tables.quarantine, clock });
    await store.put(
      item({ messageId: 'u-1', status: 'DEFERRED', attempts: 1, nextAttemptAt: now.toISOString() }),
    );
    expect(await store.update('u-1', 'alice@example.com', 'QUARANTINED', { attempts: 5 })).toBe(false);
    expect(
      await store.update('u-1', 'alice@example.com', 'DEFERRED', {
        status: 'DELIVERED',
        attempts: 2,
        nextAttemptAt: undefined,
      }),
    ).toBe(true);
    const updated = await store.get('u-1', 'alice@example.com');
    expect(updated).toMatchObject({ status: 'DELIVERED', attempts: 2, subject: 'hello' });
    expect(updated).not.toHaveProperty('nextAttemptAt');
    expect(await store.update('u-none', 'alice@example.com', 'DEFERRED', { attempts: 1 })).toBe(false);
  });

  it('throws NotFoundError when setting the status of a missing item', async () => {
    const store = new DynamoQuarantineStore({ client: aws.dynamo, tableName: aws.tables.quarantine, clock });
    await expect(store.setStatus('q-none', 'alice@example.com', 'RELEASED')).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });
});
