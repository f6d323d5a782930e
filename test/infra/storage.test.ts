import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { synthTemplate, testConfig } from './synth.ts';

describe('message bucket', () => {
  const template = synthTemplate(testConfig({ retention: { messageDays: 12, quarantineDays: 12 } }));
  const buckets = template.findResources('AWS::S3::Bucket');
  const [messagesId, messages] =
    Object.entries(buckets).find(([id]) => id.startsWith('MessagesBucket')) ?? [];

  it('is private, encrypted and TLS-only', () => {
    expect(messages?.Properties).toMatchObject({
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: messagesId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('expires inbound/, envelopes/ and verdicts/ after the configured message days', () => {
    const rules = messages?.Properties.LifecycleConfiguration.Rules as {
      Prefix?: string;
      ExpirationInDays?: number;
    }[];
    for (const prefix of ['inbound/', 'envelopes/', 'verdicts/']) {
      expect(rules).toContainEqual(
        expect.objectContaining({ Prefix: prefix, ExpirationInDays: 12, Status: 'Enabled' }),
      );
    }
  });

  it('writes server access logs to a separate private bucket', () => {
    const logging = messages?.Properties.LoggingConfiguration;
    expect(logging.DestinationBucketName.Ref).toMatch(/^MessagesAccessLogs/);
    expect(
      buckets[logging.DestinationBucketName.Ref]?.Properties.PublicAccessBlockConfiguration.BlockPublicAcls,
    ).toBe(true);
  });

  it('survives stack deletion', () => {
    expect(messages?.DeletionPolicy).toBe('Retain');
  });
});

describe('quarantine tables', () => {
  const template = synthTemplate();
  const tables = template.findResources('AWS::DynamoDB::Table');
  const quarantine = Object.entries(tables).find(([id]) => id.startsWith('TablesQuarantine'))?.[1];
  const ledger = Object.entries(tables).find(([id]) => id.startsWith('TablesLedger'))?.[1];

  it('keeps quarantine items with TTL and both indexes', () => {
    expect(quarantine?.Properties).toMatchObject({
      KeySchema: [
        { AttributeName: 'messageId', KeyType: 'HASH' },
        { AttributeName: 'recipient', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      BillingMode: 'PAY_PER_REQUEST',
    });
    const indexes = quarantine?.Properties.GlobalSecondaryIndexes as {
      IndexName: string;
      KeySchema: unknown;
    }[];
    expect(indexes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          IndexName: 'byRecipient',
          KeySchema: [
            { AttributeName: 'recipient', KeyType: 'HASH' },
            { AttributeName: 'receivedAt', KeyType: 'RANGE' },
          ],
        }),
        expect.objectContaining({
          IndexName: 'byStatus',
          KeySchema: [
            { AttributeName: 'status', KeyType: 'HASH' },
            { AttributeName: 'receivedAt', KeyType: 'RANGE' },
          ],
        }),
      ]),
    );
  });

  it('keys the ledger by message and recipient with TTL', () => {
    expect(ledger?.Properties).toMatchObject({
      KeySchema: [
        { AttributeName: 'messageId', KeyType: 'HASH' },
        { AttributeName: 'recipient', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      BillingMode: 'PAY_PER_REQUEST',
    });
  });

  it('encrypts both tables and turns point-in-time recovery on', () => {
    for (const table of [quarantine, ledger]) {
      expect(table?.Properties.SSESpecification).toEqual({ SSEEnabled: true });
      expect(table?.Properties.PointInTimeRecoverySpecification).toEqual({
        PointInTimeRecoveryEnabled: true,
      });
      expect(table?.DeletionPolicy).toBe('Retain');
    }
  });

  it('protects both tables from deletion', () => {
    for (const table of [quarantine, ledger]) expect(table?.Properties.DeletionProtectionEnabled).toBe(true);
  });
});
