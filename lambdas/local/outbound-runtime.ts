// The local outbound side: the SES emulator, the outbound workflow definition run by
// aws-local-stepfunctions over the same handler factories as the Lambdas, and the submit entry the
// submission listener calls. Built on the inbound gateway's adapters (same bucket, tables, logger).

import type { SESv2Client } from '@aws-sdk/client-sesv2';
import {
  OUTBOUND_FUNCTIONS,
  type OutboundFunction,
  outboundDefinition,
} from '../../lib/workflow/outbound-definition.ts';
import { createDynamoClient, createSesClient } from '../adapters/aws/aws-clients.ts';
import { DynamoSenderCounter } from '../adapters/aws/dynamo-sender-counter.ts';
import { SesOutboundSender } from '../adapters/aws/ses-sender.ts';
import { createBlockHandler } from '../handlers/block.ts';
import type { HandlerDeps, OutboundHandlerDeps } from '../handlers/deps.ts';
import { createOutboundAbuseHandler } from '../handlers/outbound-abuse.ts';
import { createOutboundDecideHandler } from '../handlers/outbound-decide.ts';
import { createParseHandler } from '../handlers/parse.ts';
import { createQuarantineHandler } from '../handlers/quarantine.ts';
import { createScanAntivirusHandler, createScanHandler } from '../handlers/scan.ts';
import { createSendHandler } from '../handlers/send.ts';
import { createSubmitHandler, type Submission, type SubmitResult } from '../handlers/submit.ts';
import type { EmbeddedEndpoints } from './embedded-aws.ts';
import {
  type AslDefinition,
  type ExecutionRecord,
  LocalWorkflow,
  type TaskHandler,
} from './local-workflow.ts';
import { type SesEmulator, startSesEmulator } from './ses-emulator.ts';

export interface LocalOutbound {
  readonly ses: SesEmulator;
  /** The SESv2 client the sender uses (tests add middleware to see the exact request). */
  readonly sesClient: SESv2Client;
  readonly workflow: LocalWorkflow;
  readonly deps: OutboundHandlerDeps;
  /** Stores an authenticated submission and starts the outbound workflow. */
  submit(submission: Submission): Promise<SubmitResult>;
  /** Resolves when every outbound execution started so far has ended. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

export interface LocalOutboundOptions {
  readonly deps: HandlerDeps;
  readonly endpoints: EmbeddedEndpoints;
  readonly retryIntervalMs?: number;
  readonly onExecutionSucceeded?: (record: ExecutionRecord) => void;
  readonly onExecutionFailed?: (executionId: string, error: Error) => void;
}

/** The handler for every function the outbound workflow calls, from the Lambdas' factories. */
export function buildOutboundHandlers(
  deps: OutboundHandlerDeps,
): Readonly<Record<OutboundFunction, TaskHandler>> {
  const task = <T>(handler: (event: T) => Promise<unknown>): TaskHandler => handler as TaskHandler;
  return {
    Parse: task(createParseHandler(deps)),
    ScanDlp: task(createScanHandler('dlp', deps)),
    ScanAttachments: task(createScanHandler('attachments', deps)),
    ScanAntivirus: task(createScanAntivirusHandler(deps)),
    OutboundAbuse: task(createOutboundAbuseHandler(deps)),
    OutboundDecide: task(createOutboundDecideHandler(deps)),
    Send: task(createSendHandler(deps)),
    Block: task(createBlockHandler(deps)),
    Quarantine: task(createQuarantineHandler(deps)),
  };
}

export async function startLocalOutbound(options: LocalOutboundOptions): Promise<LocalOutbound> {
  const { endpoints } = options;
  const ses = await startSesEmulator();
  const connection = { region: endpoints.region, credentials: endpoints.credentials };
  const sesClient = createSesClient({ ...connection, endpoint: ses.url });
  const dynamo = createDynamoClient({ ...connection, endpoint: endpoints.dynamodb });
  let workflow: LocalWorkflow | undefined;
  const deps: OutboundHandlerDeps = {
    ...options.deps,
    sender: new SesOutboundSender(sesClient),
    counter: new DynamoSenderCounter({ client: dynamo, tableName: endpoints.ledgerTable }),
    outboundStarter: { start: (input) => workflow!.start(input) },
  };
  workflow = new LocalWorkflow({
    handlers: buildOutboundHandlers(deps),
    definition: outboundDefinition() as unknown as AslDefinition,
    functions: OUTBOUND_FUNCTIONS,
    name: 'seg-outbound',
    ...(options.retryIntervalMs !== undefined ? { retryIntervalMs: options.retryIntervalMs } : {}),
    ...(options.onExecutionSucceeded ? { onExecutionSucceeded: options.onExecutionSucceeded } : {}),
    ...(options.onExecutionFailed ? { onExecutionFailed: options.onExecutionFailed } : {}),
  });
  const submit = createSubmitHandler(deps);
  return {
    ses,
    sesClient,
    workflow,
    deps,
    submit,
    drain: () => workflow.drain(),
    async close() {
      await workflow.drain();
      sesClient.destroy();
      dynamo.destroy();
      await ses.close();
    },
  };
}
