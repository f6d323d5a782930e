// What every quarantine item of a message shares, whoever holds it (a policy quarantine, a deferral, the
// fail-safe, an unconfirmed delivery): the sender and subject, the verdict, and when the item expires.

import { headerValues } from '../contracts/header-block.ts';
import type { DecidedState, QuarantineItem, WorkflowInput } from '../ports/index.ts';
import type { HandlerDeps } from './deps.ts';
import type { StatesError } from './support.ts';

/** Quarantine's input: anything from the workflow input to a full DecidedState, plus a caught error. */
export interface QuarantineState extends WorkflowInput {
  readonly parse?: DecidedState['parse'];
  readonly verdict?: DecidedState['verdict'];
  readonly deliveryFailure?: StatesError;
  /** A transient delivery failure that outlasted the workflow's retries: the message is queued. */
  readonly deferral?: StatesError;
  readonly failure?: StatesError;
}

/** What a hold needs to know of its message. */
export type HeldMessage = Pick<
  QuarantineState,
  'messageId' | 'key' | 'receivedAt' | 'envelope' | 'direction' | 'verdict' | 'parse'
>;

/** An existing item as the message it holds (its envelope sender is not kept; the From stands in). */
export function heldMessageOf(item: QuarantineItem): HeldMessage {
  return {
    messageId: item.messageId,
    key: item.messageKey,
    receivedAt: item.receivedAt,
    envelope: { mailFrom: item.sender, recipients: [item.recipient] },
    direction: item.direction ?? 'inbound',
  };
}

const DAY_SECONDS = 86_400;
const MAX_FIELD_CHARS = 500;

/** The parts of a quarantine item every hold shares: who, what, the verdict, and when it expires. */
export function heldItem(
  deps: Pick<HandlerDeps, 'config'>,
  state: HeldMessage,
  description: { readonly sender: string; readonly subject: string },
  recipient: string,
  now: Date,
): Omit<QuarantineItem, 'status' | 'reason'> {
  return {
    messageId: state.messageId,
    recipient,
    sender: description.sender.slice(0, MAX_FIELD_CHARS),
    subject: description.subject.slice(0, MAX_FIELD_CHARS),
    score: state.verdict?.score ?? 0,
    symbols: (state.verdict?.symbols ?? []).join(' '),
    receivedAt: state.receivedAt,
    messageKey: state.key,
    ...(state.direction === 'outbound' ? { direction: 'outbound' as const } : {}),
    expiresAt: Math.floor(now.getTime() / 1000) + deps.config.retention.quarantineDays * DAY_SECONDS,
  };
}

/** Sender and subject from Parse's summary in the state, else (before Parse) from the raw header block. */
export async function describe(
  deps: Pick<HandlerDeps, 'store'>,
  state: HeldMessage,
): Promise<{ sender: string; subject: string }> {
  if (state.parse)
    return { sender: state.parse.from ?? state.envelope.mailFrom, subject: state.parse.subject ?? '' };
  try {
    return describeRaw(await deps.store.get(state.key), state.envelope.mailFrom);
  } catch {
    // The item still matters more than its description: the reason says what went wrong.
    return { sender: state.envelope.mailFrom, subject: '' };
  }
}

/** Sender and subject from the raw message's header block (a bounded read). */
export function describeRaw(raw: Uint8Array, mailFrom: string): { sender: string; subject: string } {
  return { sender: headerValues(raw, 'from')[0] ?? mailFrom, subject: headerValues(raw, 'subject')[0] ?? '' };
}
