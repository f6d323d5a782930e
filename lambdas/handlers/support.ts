// Small helpers the handlers share: reading stored objects with the right error class, grouping
// recipients by domain, and the verdict headers for an outgoing message. No handler logic here.

import { DELIVER_STATE_TIMEOUT_S } from '../contracts/delivery-budget.ts';
import type { Verdict } from '../engine/types.ts';
import { NotFoundError, TransientError } from '../errors.ts';
import type { MessageStore } from '../ports/index.ts';
import { KEYS } from './deps.ts';

/** A deliver or quarantine claim outlives the Deliver step's timeout, so a live attempt is never overlapped. */
export const CLAIM_LEASE_MS = (DELIVER_STATE_TIMEOUT_S + 10) * 1000;

/** Reads an object the workflow cannot do without: any failure (missing included) is worth a retry. */
export async function loadRequired(store: MessageStore, key: string): Promise<Uint8Array> {
  try {
    return await store.get(key);
  } catch (cause) {
    throw new TransientError(`cannot read ${key}: ${(cause as Error).message}`, { cause });
  }
}

/** Reads a JSON object that may legitimately be absent; other failures are transient. */
export async function loadOptionalJson<T>(store: MessageStore, key: string): Promise<T | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await store.get(key);
  } catch (cause) {
    if (cause instanceof NotFoundError) return undefined;
    throw new TransientError(`cannot read ${key}: ${(cause as Error).message}`, { cause });
  }
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

export const domainOf = (address: string): string =>
  address.slice(address.lastIndexOf('@') + 1).toLowerCase();

/** Recipients grouped by domain, each group in envelope order. */
export function groupByDomain(recipients: readonly string[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const r of recipients) {
    const d = domainOf(r);
    groups.set(d, [...(groups.get(d) ?? []), r]);
  }
  return groups;
}

/** The message trace Decide writes to verdicts/<id>.json. */
export interface VerdictTrace {
  readonly messageId: string;
  readonly receivedAt: string;
  readonly envelope: import('../engine/types.ts').Envelope;
  readonly parse?: import('../ports/index.ts').ParseSummary;
  readonly ses?: import('../engine/types.ts').SesVerdicts;
  readonly verdict: Verdict;
}

export const readTrace = (store: MessageStore, messageId: string) =>
  loadOptionalJson<VerdictTrace>(store, KEYS.verdict(messageId));

/** Step Functions error objects ({Error, Cause}); Cause is the Lambda error JSON when it came from one. */
export interface StatesError {
  readonly Error?: string;
  readonly Cause?: string;
}

/** `Error: message`, bounded, from a Step Functions error object. */
export function describeStatesError(error: StatesError, maxChars = 500): string {
  let message = error.Cause ?? '';
  try {
    const cause = JSON.parse(message) as { errorMessage?: string };
    if (typeof cause.errorMessage === 'string') message = cause.errorMessage;
  } catch {
    // Not JSON: Step Functions' own errors (States.Timeout) carry a plain Cause.
  }
  return `${error.Error ?? 'Error'}: ${message}`.slice(0, maxChars);
}
