// Block: refuses an outbound message by policy. Each recipient is recorded BLOCKED in the ledger and
// the quarantine table (direction outbound, so `seg quarantine list` shows what was refused), and the
// authenticated sender, and only they, gets one notice through SES saying why. The notice carries
// the verdict's reason, whose evidence the scanners have already redacted, and no part of the body.

import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type { DecidedState, QuarantineItem } from '../ports/index.ts';
import type { OutboundHandlerDeps } from './deps.ts';
import { CLAIM_LEASE_MS } from './support.ts';

const DAY_SECONDS = 86_400;
/** The ledger row that makes the notice go out once per message. */
const NOTICE_ROW = 'notice:sender';

export interface BlockOutcome {
  readonly messageId: string;
  readonly blocked: readonly string[];
  /** Who was told, when someone was. */
  readonly notified?: string;
}

export function createBlockHandler(
  deps: Pick<
    OutboundHandlerDeps,
    'config' | 'store' | 'ledger' | 'pending' | 'quarantine' | 'sender' | 'clock' | 'logger' | 'metrics'
  >,
) {
  return async (state: DecidedState): Promise<BlockOutcome> => {
    const subject = state.parse?.subject ?? '';
    const now = deps.clock();
    const blocked: string[] = [];
    for (const recipient of state.envelope.recipients) {
      if (!(await deps.ledger.claim(state.messageId, recipient, 'block', CLAIM_LEASE_MS))) continue;
      const item: QuarantineItem = {
        messageId: state.messageId,
        recipient,
        sender: state.envelope.mailFrom.slice(0, 500),
        subject: subject.slice(0, 500),
        score: state.verdict.score,
        symbols: state.verdict.symbols.join(' '),
        reason: state.verdict.reason.slice(0, 1000),
        status: 'BLOCKED',
        receivedAt: state.receivedAt,
        messageKey: state.key,
        expiresAt: Math.floor(now.getTime() / 1000) + deps.config.retention.quarantineDays * DAY_SECONDS,
        direction: 'outbound',
      };
      await deps.quarantine.put(item);
      await deps.ledger.settle(state.messageId, recipient, 'BLOCKED', item.reason);
      deps.metrics.count('Dispositions', 'BLOCKED');
      blocked.push(recipient);
    }
    deps.logger.info('blocked', {
      messageId: state.messageId,
      recipients: blocked.length,
      reason: state.verdict.reason.slice(0, 300),
    });

    const notify = state.envelope.mailFrom;
    if (!notify || !(await deps.ledger.claim(state.messageId, NOTICE_ROW, 'send', CLAIM_LEASE_MS))) {
      await deps.pending.remove(state.messageId);
      return { messageId: state.messageId, blocked };
    }
    const from =
      deps.config.outbound.noticeFrom ?? `postmaster@${deps.config.domains[0]?.name ?? 'localhost'}`;
    try {
      const notice = await noticeFor({ from, to: notify, subject, state });
      const { sesMessageId } = await deps.sender.send({
        raw: notice,
        from,
        recipients: [notify],
        configurationSet: deps.config.outbound.configurationSet,
      });
      await deps.ledger.settle(state.messageId, NOTICE_ROW, 'SENT', `ses ${sesMessageId}`);
    } catch (error) {
      await deps.ledger.abandon(state.messageId, NOTICE_ROW);
      throw error;
    }
    // Disposed of and told: the message is no longer pending. (The reconciler clears an entry whose
    // recipients are all BLOCKED without re-driving it, so a notice a crash interrupted is not retried.)
    await deps.pending.remove(state.messageId);
    return { messageId: state.messageId, blocked, notified: notify };
  };
}

function noticeFor(input: {
  from: string;
  to: string;
  subject: string;
  state: DecidedState;
}): Promise<Buffer> {
  const { state } = input;
  const count = state.envelope.recipients.length;
  const text = [
    `Your message "${input.subject}" to ${count} recipient${count === 1 ? '' : 's'} was not sent.`,
    '',
    `Why: ${state.verdict.reason}`,
    '',
    'If it must go out, remove the data named above (or send it through an approved channel) and send',
    `it again, or ask your administrator to review it. Reference: ${state.messageId}`,
  ].join('\n');
  return new MailComposer({
    from: input.from,
    to: input.to,
    subject: `Not sent: ${input.subject}`.slice(0, 200),
    text,
    headers: { 'Auto-Submitted': 'auto-replied', 'X-SEG-Notice': state.messageId },
  })
    .compile()
    .build();
}
