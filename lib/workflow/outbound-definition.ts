// The outbound workflow in Amazon States Language, beside the inbound one and in the same style:
// Parse -> Scan (Parallel: DLP and SES limits | attachments | antivirus | outbound abuse) -> Decide ->
// Send | Block | Quarantine. The attachments and antivirus branches are the inbound ones' Lambdas.
// CDK deploys it with the function ARNs substituted; the local runtime runs the same document.
// No CDK import here: the local runtime loads this file too.

import {
  ANTIVIRUS_TIMEOUT_SECONDS,
  arn,
  failSafeStates,
  parseAndScanStates,
  retryTransient,
  type ScanBranchSpec,
} from './inbound-definition.ts';

/**
 * Every Lambda the outbound workflow calls, by its ARN placeholder name. Parse, ScanAttachments,
 * ScanAntivirus and Quarantine are the inbound workflow's functions.
 */
export const OUTBOUND_FUNCTIONS = [
  'Parse',
  'ScanDlp',
  'ScanAttachments',
  'ScanAntivirus',
  'OutboundAbuse',
  'OutboundDecide',
  'Send',
  'Block',
  'Quarantine',
] as const;
export type OutboundFunction = (typeof OUTBOUND_FUNCTIONS)[number];

/**
 * The Scan Parallel's branches. A failing branch yields its family's _ERROR, which `outbound.actions`
 * may quarantine (DLP_ERROR and AV_ERROR do by default: nothing leaves unscanned). Malware found by
 * the antivirus branch is always blocked (decideOutbound).
 */
const SCAN_BRANCHES = [
  { fn: 'ScanDlp', family: 'DLP' },
  { fn: 'ScanAttachments', family: 'ATTACHMENT' },
  { fn: 'ScanAntivirus', family: 'AV', timeoutSeconds: ANTIVIRUS_TIMEOUT_SECONDS },
  { fn: 'OutboundAbuse', family: 'OUTBOUND' },
] as const satisfies readonly (ScanBranchSpec & { fn: OutboundFunction })[];

const toFailSafe = { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'FailSafe' };

export function outboundDefinition() {
  return {
    Comment:
      'seg outbound: Parse -> Scan (DLP | attachments | antivirus | abuse) -> Decide -> Send | Block | Quarantine',
    StartAt: 'Parse',
    States: {
      ...parseAndScanStates(SCAN_BRANCHES, 'Decide'),
      Decide: {
        Type: 'Task',
        Resource: arn('OutboundDecide'),
        TimeoutSeconds: 30,
        Retry: [retryTransient],
        Catch: [toFailSafe],
        Next: 'Route',
      },
      Route: {
        Type: 'Choice',
        Choices: [
          { Variable: '$.verdict.action', StringEquals: 'reject', Next: 'Block' },
          { Variable: '$.verdict.action', StringEquals: 'quarantine', Next: 'Quarantine' },
        ],
        Default: 'Send',
      },
      Send: {
        Type: 'Task',
        Resource: arn('Send'),
        TimeoutSeconds: 120,
        Retry: [
          // SES throttling and 5xx: back off inside the 5-minute Express limit.
          { ErrorEquals: ['TransientDeliveryError'], IntervalSeconds: 5, MaxAttempts: 4, BackoffRate: 2 },
          retryTransient,
        ],
        // Not sent after the retries, or refused by SES: held for a person as DELIVERY_FAILED.
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.deliveryFailure', Next: 'SendFailed' }],
        Next: 'Done',
      },
      SendFailed: {
        Type: 'Task',
        Resource: arn('Quarantine'),
        TimeoutSeconds: 60,
        Retry: [retryTransient],
        Catch: [toFailSafe],
        Next: 'Done',
      },
      Block: {
        Type: 'Task',
        Resource: arn('Block'),
        TimeoutSeconds: 60,
        Retry: [
          { ErrorEquals: ['TransientDeliveryError'], IntervalSeconds: 5, MaxAttempts: 3, BackoffRate: 2 },
          retryTransient,
        ],
        Catch: [toFailSafe],
        Next: 'Done',
      },
      Quarantine: {
        Type: 'Task',
        Resource: arn('Quarantine'),
        TimeoutSeconds: 60,
        Retry: [retryTransient],
        Catch: [toFailSafe],
        Next: 'Done',
      },
      // Nothing leaves without passing DLP: any broken step holds the message.
      ...failSafeStates('fail-safe quarantine failed; the message stays in outbox/, unsent'),
    },
  };
}

/** The definition as the exact string CDK deploys (before ARN substitution). */
export const outboundDefinitionString = (): string => JSON.stringify(outboundDefinition());
