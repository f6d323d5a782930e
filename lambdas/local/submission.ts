// The local outbound side of `seg serve`, started only when the config names submitters: the
// outbound runtime (SES emulator and workflow) and the authenticated submission listener in front.

import type { HandlerDeps } from '../handlers/deps.ts';
import type { EmbeddedEndpoints } from './embedded-aws.ts';
import type { ExecutionRecord } from './local-workflow.ts';
import { type LocalOutbound, startLocalOutbound } from './outbound-runtime.ts';
import { submissionTls } from './self-signed.ts';
import { startSubmissionListener } from './submission-listener.ts';

export interface LocalSubmission {
  readonly host: string;
  readonly port: number;
  readonly outbound: LocalOutbound;
  drain(): Promise<void>;
  close(): Promise<void>;
}

export interface LocalSubmissionOptions {
  readonly deps: HandlerDeps;
  readonly endpoints: EmbeddedEndpoints;
  readonly dataDir: string;
  /** @default config.local.submissionPort; 0 picks a free port */
  readonly port?: number;
  readonly retryIntervalMs?: number;
  readonly info: (line: string) => void;
  readonly log: (line: string) => void;
}

export async function startLocalSubmission(options: LocalSubmissionOptions): Promise<LocalSubmission> {
  const { config } = options.deps;
  const tls = await submissionTls(config, options.dataDir);
  const outbound = await startLocalOutbound({
    deps: options.deps,
    endpoints: options.endpoints,
    ...(options.retryIntervalMs !== undefined ? { retryIntervalMs: options.retryIntervalMs } : {}),
    onExecutionSucceeded: (record) => options.info(outboundLine(record)),
    onExecutionFailed: (id, error) =>
      options.log(
        `outbound workflow ${id} failed (${error.name}: ${error.message}); the message stays in outbox/, unsent`,
      ),
  });
  let listener: Awaited<ReturnType<typeof startSubmissionListener>>;
  try {
    listener = await startSubmissionListener({
      config,
      tls,
      submit: async (submission) => {
        const result = await outbound.submit(submission);
        options.info(
          `submitted ${result.submissionId} by ${submission.submitter} from <${submission.envelope.mailFrom}> for ${submission.envelope.recipients.length} recipient(s)`,
        );
        return result;
      },
      ...(options.port !== undefined ? { port: options.port } : {}),
    });
  } catch (cause) {
    await outbound.close();
    throw cause;
  }
  return {
    host: listener.host,
    port: listener.port,
    outbound,
    drain: () => outbound.drain(),
    async close() {
      await listener.close();
      await outbound.close();
    },
  };
}

function outboundLine(record: ExecutionRecord): string {
  const id = record.input.messageId;
  const out = (record.output ?? {}) as {
    sent?: readonly string[];
    blocked?: readonly string[];
    quarantined?: readonly string[];
    notified?: string;
  };
  if (out.sent?.length) return `sent ${id} through SES to ${out.sent.length} recipient(s)`;
  if (out.blocked) return `blocked ${id}${out.notified ? `; told ${out.notified} why` : ''}`;
  if (out.quarantined?.length) return `held ${id} for review (outbound)`;
  return `finished ${id}`;
}
