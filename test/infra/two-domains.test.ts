// A message to two protected domains reaches every recipient: the synthesized receipt rule set is run
// the way SES runs it (each matching rule separately, with only the recipients it matched, as its own
// Lambda event) into the real ingest handler over s3rver, and the one workflow started and the stored
// envelope carry every envelope recipient.

import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoPendingIndex } from '../../lambdas/adapters/aws/dynamo-pending-index.ts';
import { S3MessageStore } from '../../lambdas/adapters/aws/s3-message-store.ts';
import { RecordingLogger } from '../../lambdas/adapters/local/observability.ts';
import { KEYS } from '../../lambdas/handlers/deps.ts';
import { createIngestHandler } from '../../lambdas/handlers/ingest.ts';
import type { WorkflowInput } from '../../lambdas/ports/index.ts';
import { type LocalAws, startLocalAws } from '../support/local-aws.ts';
import { synthTemplate, testConfig } from './synth.ts';

/**
 * SES's recipient condition match: an address matches itself, a domain matches addresses at exactly
 * that domain, and `.domain` matches its subdomains (SES developer guide, "receipt rule recipients").
 */
function sesMatches(recipient: string, conditions: readonly string[]): boolean {
  const address = recipient.toLowerCase();
  const domain = address.slice(address.lastIndexOf('@') + 1);
  return conditions.some((c) => {
    const condition = c.toLowerCase();
    if (condition.includes('@')) return condition === address;
    if (condition.startsWith('.')) return domain.endsWith(condition);
    return condition === domain;
  });
}

/** The Lambda events SES sends for one message: one per matching rule, with that rule's recipients. */
function sesInvocations(rules: readonly string[][], messageId: string, recipients: readonly string[]) {
  const fixture = JSON.parse(
    readFileSync(new URL('../fixtures/handlers/ses-lambda-event.json', import.meta.url), 'utf8'),
  );
  return rules.flatMap((conditions) => {
    const matched = recipients.filter((r) => sesMatches(r, conditions));
    if (matched.length === 0) return [];
    const event = structuredClone(fixture);
    event.Records[0].ses.mail.messageId = messageId;
    event.Records[0].ses.receipt.recipients = matched;
    return [event];
  });
}

const twoDomains = testConfig({
  domains: [
    { name: 'example.com', route: { host: 'mail.example.com' } },
    { name: 'example.org', route: { host: 'mx.example.org' }, recipients: ['ceo@example.org'] },
  ],
});

describe('a message to two protected domains', () => {
  let aws: LocalAws;
  beforeAll(async () => {
    aws = await startLocalAws();
  });
  afterAll(async () => {
    await aws?.stop();
  });

  const rules = Object.values(synthTemplate(twoDomains).findResources('AWS::SES::ReceiptRule')).map(
    (r) => r.Properties.Rule.Recipients as string[],
  );

  it('matches one receipt rule holding both domains', () => {
    expect(rules).toEqual([['example.com', 'ceo@example.org']]);
  });

  it('reaches every envelope recipient through one ingest event and one workflow', async () => {
    const started: WorkflowInput[] = [];
    const store = new S3MessageStore({ client: aws.s3, bucket: aws.bucket });
    const ingest = createIngestHandler({
      bucket: aws.bucket,
      store,
      pending: new DynamoPendingIndex({ client: aws.dynamo, tableName: aws.tables.ledger }),
      starter: {
        async start(input) {
          started.push(input);
          return { executionId: `exec-${started.length}` };
        },
      },
      logger: new RecordingLogger(),
    });
    const recipients = ['alice@example.com', 'ceo@example.org', 'bob@example.com'];
    const events = sesInvocations(rules, 'two-domains-1', recipients);
    expect(events).toHaveLength(1);
    for (const event of events) await ingest(event);

    expect(started).toHaveLength(1);
    expect([...(started[0]?.envelope.recipients ?? [])].sort()).toEqual([...recipients].sort());
    const envelope = JSON.parse(Buffer.from(await store.get(KEYS.envelope('two-domains-1'))).toString());
    expect([...envelope.envelope.recipients].sort()).toEqual([...recipients].sort());
  });

  it('would have split the envelope with one rule per domain (the model of SES is not trivially true)', () => {
    const perDomain = [['example.com'], ['ceo@example.org']];
    const events = sesInvocations(perDomain, 'split-1', ['alice@example.com', 'ceo@example.org']);
    expect(events.map((e) => e.Records[0].ses.receipt.recipients)).toEqual([
      ['alice@example.com'],
      ['ceo@example.org'],
    ]);
  });
});
