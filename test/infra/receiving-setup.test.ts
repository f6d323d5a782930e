// The cut-over custom resource: activation that never replaces another active rule set unless told
// to and deactivates only its own on delete, the wait for an identity's verification, and the
// answer it PUTs to CloudFormation (a real HTTP server stands in for the pre-signed URL).

import { createServer } from 'node:http';
import {
  DescribeActiveReceiptRuleSetCommand,
  SESClient,
  SetActiveReceiptRuleSetCommand,
} from '@aws-sdk/client-ses';
import { GetEmailIdentityCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ActiveRuleSetConflictError,
  type CustomResourceEvent,
  handleCustomResource,
  IdentityNotVerifiedError,
  receivingSetup,
} from '../../lambdas/deploy/receiving-setup.ts';

const ses = mockClient(SESClient);
const sesv2 = mockClient(SESv2Client);
afterEach(() => {
  ses.reset();
  sesv2.reset();
});

const deps = (remainingMs = 600_000) => ({
  ses: new SESClient({ region: 'us-east-1' }),
  sesv2: new SESv2Client({ region: 'us-east-1' }),
  remainingMs: () => remainingMs,
  sleep: async () => {},
});

function event(
  RequestType: CustomResourceEvent['RequestType'],
  ResourceProperties: CustomResourceEvent['ResourceProperties'],
  PhysicalResourceId?: string,
): CustomResourceEvent {
  return {
    RequestType,
    ResponseURL: 'http://127.0.0.1:1/unused',
    StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/Seg/1',
    RequestId: 'req-1',
    LogicalResourceId: 'Activation',
    ResourceProperties,
    ...(PhysicalResourceId ? { PhysicalResourceId } : {}),
  };
}

const activate = (replace = false) =>
  ({ Kind: 'ActiveRuleSet', RuleSetName: 'seg-rules', ReplaceActive: String(replace) }) as const;
const activeIs = (name?: string) =>
  ses.on(DescribeActiveReceiptRuleSetCommand).resolves(name ? { Metadata: { Name: name } } : {});
const activations = () => ses.commandCalls(SetActiveReceiptRuleSetCommand).map((c) => c.args[0].input);

describe('ActiveRuleSet', () => {
  it('activates its rule set when none is active', async () => {
    activeIs(undefined);
    const result = await receivingSetup(event('Create', activate()), deps());
    expect(activations()).toEqual([{ RuleSetName: 'seg-rules' }]);
    expect(result.data).toEqual({ PreviouslyActive: '' });
  });

  it('refuses to replace another active rule set and changes nothing', async () => {
    activeIs('their-rules');
    await expect(receivingSetup(event('Create', activate()), deps())).rejects.toThrow(
      ActiveRuleSetConflictError,
    );
    await expect(receivingSetup(event('Create', activate()), deps())).rejects.toThrow(/their-rules/);
    expect(activations()).toEqual([]);
  });

  it('replaces another active rule set when told to, and reports which one it replaced', async () => {
    activeIs('their-rules');
    const result = await receivingSetup(event('Update', activate(true)), deps());
    expect(activations()).toEqual([{ RuleSetName: 'seg-rules' }]);
    expect(result.data).toEqual({ PreviouslyActive: 'their-rules' });
  });

  it('makes no call when its rule set is already active', async () => {
    activeIs('seg-rules');
    await receivingSetup(event('Update', activate()), deps());
    expect(activations()).toEqual([]);
  });

  it('deactivates its own rule set on delete', async () => {
    activeIs('seg-rules');
    await receivingSetup(event('Delete', activate(), 'seg-active-receipt-rule-set:seg-rules'), deps());
    expect(activations()).toEqual([{}]);
  });

  it('leaves a rule set activated by hand after the deploy active on delete', async () => {
    activeIs('activated-later');
    const result = await receivingSetup(event('Delete', activate(), 'physical-1'), deps());
    expect(activations()).toEqual([]);
    expect(result.physicalResourceId).toBe('physical-1');
  });
});

describe('VerifiedIdentity', () => {
  const verified = { Kind: 'VerifiedIdentity', Identity: 'example.com' } as const;

  it('completes once SES reports the identity verified, polling until then', async () => {
    sesv2
      .on(GetEmailIdentityCommand)
      .resolvesOnce({ VerificationStatus: 'PENDING' })
      .resolvesOnce({ VerificationStatus: 'PENDING' })
      .resolves({ VerificationStatus: 'SUCCESS' });
    const result = await receivingSetup(event('Create', verified), deps());
    expect(result.data).toEqual({ Status: 'SUCCESS' });
    expect(sesv2.commandCalls(GetEmailIdentityCommand)).toHaveLength(3);
  });

  it('fails, naming the identity, when it is still unverified as the function must answer', async () => {
    sesv2.on(GetEmailIdentityCommand).resolves({ VerificationStatus: 'PENDING' });
    await expect(receivingSetup(event('Create', verified), deps(10_000))).rejects.toThrow(
      IdentityNotVerifiedError,
    );
  });

  it('does nothing on delete', async () => {
    const result = await receivingSetup(
      event('Delete', verified, 'seg-verified-identity:example.com'),
      deps(),
    );
    expect(result.physicalResourceId).toBe('seg-verified-identity:example.com');
    expect(sesv2.commandCalls(GetEmailIdentityCommand)).toHaveLength(0);
  });
});

describe('handleCustomResource', () => {
  async function answered(run: (url: string) => Promise<void>): Promise<Record<string, unknown>> {
    let body = '';
    const server = createServer((req, res) => {
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => res.end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await run(`http://127.0.0.1:${(server.address() as { port: number }).port}/presigned`);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    return JSON.parse(body) as Record<string, unknown>;
  }

  it('answers SUCCESS with the physical id and data', async () => {
    activeIs(undefined);
    const answer = await answered((url) =>
      handleCustomResource({ ...event('Create', activate()), ResponseURL: url }, deps()),
    );
    expect(answer).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: 'seg-active-receipt-rule-set:seg-rules',
      RequestId: 'req-1',
      LogicalResourceId: 'Activation',
      Data: { PreviouslyActive: '' },
    });
  });

  it('answers FAILED with the reason when another rule set is active', async () => {
    activeIs('their-rules');
    const answer = await answered((url) =>
      handleCustomResource({ ...event('Create', activate()), ResponseURL: url }, deps()),
    );
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toMatch(/ActiveRuleSetConflictError: .*their-rules.*replaceActiveRuleSet/);
  });
});
