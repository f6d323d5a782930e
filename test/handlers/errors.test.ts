// The error classes: Step Functions matches Retry/Catch on the Lambda errorType, which the Node
// runtime takes from `name`, so each name must be a fixed string that survives minification.

import { describe, expect, it } from 'vitest';
import {
  MalformedEventError,
  NotFoundError,
  PermanentDeliveryError,
  TransientDeliveryError,
  TransientError,
} from '../../lambdas/errors.ts';
import { inboundDefinition } from '../../lib/workflow/inbound-definition.ts';

describe('errors', () => {
  it('names each class with the string the workflow matches', () => {
    expect(new TransientError('x').name).toBe('TransientError');
    expect(new TransientDeliveryError('x').name).toBe('TransientDeliveryError');
    expect(new PermanentDeliveryError('x').name).toBe('PermanentDeliveryError');
    expect(new MalformedEventError('x').name).toBe('MalformedEventError');
    expect(new NotFoundError('x').name).toBe('NotFoundError');
  });

  it('keeps the cause and the SMTP response code', () => {
    const cause = new Error('socket hang up');
    const error = new TransientDeliveryError('delivery failed', 451, { cause });
    expect(error.cause).toBe(cause);
    expect(error.responseCode).toBe(451);
    expect(error).toBeInstanceOf(TransientError);
  });

  it('matches the error names the Deliver state retries', () => {
    const retried = inboundDefinition().States.Deliver.Retry.flatMap((r) => r.ErrorEquals);
    expect(retried).toContain(new TransientDeliveryError('x').name);
    expect(retried).toContain(new TransientError('x').name);
    expect(retried).not.toContain(new PermanentDeliveryError('x').name);
  });
});
