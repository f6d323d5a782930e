// The delivery time budget, read from what is deployed: the workflow definition's Deliver and Defer
// states, the deliver function's timeout in the synthesized template, and the SMTP mailer's waits.
// A black-holed server must end in Defer inside Express's 5 minutes, never in a timed-out execution.

import { describe, expect, it } from 'vitest';
import { DEFAULT_SMTP_TIMEOUTS } from '../../lambdas/adapters/aws/smtp-mailer.ts';
import {
  deliveryWorstCaseS,
  EXPRESS_LIMIT_S,
  PRE_DELIVERY_ALLOWANCE_S,
} from '../../lambdas/contracts/delivery-budget.ts';
import { CLAIM_LEASE_MS } from '../../lambdas/handlers/support.ts';
import { inboundDefinition } from '../../lib/workflow/inbound-definition.ts';
import { synthTemplate } from './synth.ts';

interface TaskState {
  readonly TimeoutSeconds: number;
  readonly Retry?: readonly {
    ErrorEquals: string[];
    IntervalSeconds?: number;
    MaxAttempts?: number;
    BackoffRate?: number;
  }[];
  readonly Catch?: readonly { ErrorEquals: string[]; Next: string }[];
}

describe('the delivery time budget', () => {
  const states = inboundDefinition().States as unknown as Record<string, TaskState>;
  const deliver = states.Deliver!;
  const defer = states.Defer!;
  const retry = deliver.Retry?.find((r) => r.ErrorEquals.includes('TransientDeliveryError'));
  const template = synthTemplate();
  const deliverFunction = Object.entries(template.findResources('AWS::Lambda::Function')).find(([id]) =>
    id.startsWith('Functionsdeliver'),
  )?.[1] as { Properties: { Timeout: number } } | undefined;

  it('fits every Deliver attempt timing out, the backoff between them and Defer inside the Express limit', () => {
    const worst = deliveryWorstCaseS(
      deliver.TimeoutSeconds,
      {
        intervalSeconds: retry?.IntervalSeconds ?? 1,
        maxAttempts: retry?.MaxAttempts ?? 3,
        backoffRate: retry?.BackoffRate ?? 2,
      },
      defer.TimeoutSeconds,
    );
    expect(worst + PRE_DELIVERY_ALLOWANCE_S).toBeLessThan(EXPRESS_LIMIT_S);
  });

  it('keeps one SMTP transaction inside the deliver function, and the function inside its state', () => {
    const { connect, greeting, socket, attempt } = DEFAULT_SMTP_TIMEOUTS;
    expect(connect + greeting + socket).toBeLessThanOrEqual(attempt);
    expect(deliverFunction?.Properties.Timeout).toBeDefined();
    const functionS = deliverFunction!.Properties.Timeout;
    // Domains go out in parallel, so one attempt bounds the function whatever the recipient domains.
    expect(attempt / 1000).toBeLessThan(functionS);
    expect(functionS).toBeLessThan(deliver.TimeoutSeconds);
    // A claim outlives the step, so no second attempt overlaps a live one.
    expect(CLAIM_LEASE_MS / 1000).toBeGreaterThan(deliver.TimeoutSeconds);
  });

  it('sends a timed-out Deliver to Defer, not to DeliveryFailed', () => {
    const toDefer = deliver.Catch?.find((c) => c.Next === 'Defer')?.ErrorEquals ?? [];
    expect(toDefer).toEqual(
      expect.arrayContaining(['TransientDeliveryError', 'States.Timeout', 'Sandbox.Timedout']),
    );
  });
});
