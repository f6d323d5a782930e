// The inbound workflow in Amazon States Language, written once. CDK deploys it with
// definitionSubstitutions for the function ARNs; the local runtime runs the same document with
// aws-local-stepfunctions, mapping each ARN placeholder to the in-process handler.
// No CDK import here: the local runtime loads this file too.

import {
  DEFER_STATE_TIMEOUT_S,
  DELIVER_RETRY,
  DELIVER_STATE_TIMEOUT_S,
} from '../../lambdas/contracts/delivery-budget.ts';

/** Every Lambda the workflow calls, by its ARN placeholder name. */
export const WORKFLOW_FUNCTIONS = [
  'Parse',
  'ScanAuth',
  'ScanContent',
  'ScanLists',
  'ScanAttachments',
  'ScanAntivirus',
  'Decide',
  'Deliver',
  'Quarantine',
] as const;
export type WorkflowFunction = (typeof WORKFLOW_FUNCTIONS)[number];

/** The substitution key CDK fills with the function's ARN. */
export const arnPlaceholder = (fn: string): string => `${fn}FunctionArn`;
/** The Resource of a Task calling `fn`: its ARN placeholder (CDK substitutes the ARN). */
export const arn = (fn: string): string => `\${${fn}FunctionArn}`;

/** Errors worth retrying: Lambda service hiccups and our TransientError class tree. */
export const TRANSIENT_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'TransientError',
];
export const retryTransient = {
  ErrorEquals: TRANSIENT_ERRORS,
  IntervalSeconds: 1,
  MaxAttempts: 3,
  BackoffRate: 2,
  JitterStrategy: 'FULL',
};
const toFailSafe = { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'FailSafe' };

/** Scanner families run in parallel; a family whose Lambda fails yields <FAMILY>_ERROR, never a stuck message. */
/** The antivirus branch's task timeout: clamd's cold start (~30 s database load) plus the scan. */
export const ANTIVIRUS_TIMEOUT_SECONDS = 150;

const SCAN_BRANCHES = [
  { fn: 'ScanAuth', family: 'AUTH' },
  { fn: 'ScanContent', family: 'CONTENT' },
  { fn: 'ScanLists', family: 'LIST' },
  { fn: 'ScanAttachments', family: 'ATTACHMENT' },
  // Its own Lambda (clamd inside): an engine that cannot answer yields AV_ERROR, which fails closed.
  // clamd loads its database on a cold start (~30 s) before the first scan.
  { fn: 'ScanAntivirus', family: 'AV', timeoutSeconds: ANTIVIRUS_TIMEOUT_SECONDS },
] as const satisfies readonly (ScanBranchSpec & { fn: WorkflowFunction })[];

export function scanBranch(fn: string, family: string, timeoutSeconds = 60) {
  const unavailable = `${fn}Unavailable`;
  const asResult = `${fn}ErrorResult`;
  const asResults = `${fn}ErrorResults`;
  // The branch must output ScanResult[] like the scanner Lambda. The ASL spec requires every
  // Parameters payload template to be a JSON object, so the one-element array is built with
  // States.Array in three Pass states rather than written as an array literal.
  return {
    StartAt: fn,
    States: {
      [fn]: {
        Type: 'Task',
        Resource: arn(fn),
        TimeoutSeconds: timeoutSeconds,
        Retry: [retryTransient],
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: unavailable }],
        End: true,
      },
      [unavailable]: {
        Type: 'Pass',
        Parameters: { symbol: `${family}_ERROR`, 'evidence.$': '$.error.Error' },
        ResultPath: '$.errorFinding',
        Next: asResult,
      },
      [asResult]: {
        Type: 'Pass',
        Parameters: { scanner: fn, family, 'findings.$': 'States.Array($.errorFinding)', ms: 0 },
        ResultPath: '$.errorResult',
        Next: asResults,
      },
      [asResults]: {
        Type: 'Pass',
        Parameters: { 'results.$': 'States.Array($.errorResult)' },
        OutputPath: '$.results',
        End: true,
      },
    },
  };
}

/** A Scan Parallel branch: the function, its family (a failure yields <family>_ERROR) and its timeout. */
export interface ScanBranchSpec {
  readonly fn: string;
  readonly family: string;
  readonly timeoutSeconds?: number;
}

/**
 * The start every workflow shares: Parse, then the scanners in parallel, each branch turning its own
 * failure into its family's _ERROR; any other failure goes to FailSafe.
 */
export function parseAndScanStates(branches: readonly ScanBranchSpec[], next: string) {
  const toFailSafe = { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'FailSafe' };
  return {
    Parse: {
      Type: 'Task',
      Resource: arn('Parse'),
      TimeoutSeconds: 120,
      ResultPath: '$.parse',
      Retry: [retryTransient],
      Catch: [toFailSafe],
      Next: 'Scan',
    },
    Scan: {
      Type: 'Parallel',
      Branches: branches.map((b) => scanBranch(b.fn, b.family, b.timeoutSeconds)),
      ResultPath: '$.scans',
      Catch: [toFailSafe],
      Next: next,
    },
  };
}

/**
 * The end every workflow shares: FailSafe holds the message with the Quarantine function (retried on any
 * error); if even that fails the run ends Undisposed, with `undisposedCause` saying where the message waits.
 */
export function failSafeStates(undisposedCause: string) {
  return {
    FailSafe: {
      Type: 'Task',
      Resource: arn('Quarantine'),
      TimeoutSeconds: 60,
      Retry: [{ ...retryTransient, ErrorEquals: ['States.ALL'], MaxAttempts: 4 }],
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failSafeFailure', Next: 'Undisposed' }],
      Next: 'Done',
    },
    Undisposed: { Type: 'Fail', Error: 'Undisposed', Cause: undisposedCause },
    Done: { Type: 'Succeed' },
  };
}

export function inboundDefinition() {
  // Defer, DeliveryFailed and Quarantine all record a disposition with the Quarantine function, which
  // tells them apart by what the state carries ($.deferral, $.deliveryFailure or the verdict).
  const recordDisposition = {
    Type: 'Task',
    Resource: arn('Quarantine'),
    TimeoutSeconds: DEFER_STATE_TIMEOUT_S,
    Retry: [retryTransient],
    Catch: [toFailSafe],
    Next: 'Done',
  };
  return {
    Comment:
      'seg inbound: Parse -> Scan (parallel families) -> Decide -> Route -> Deliver (| Defer) | Quarantine',
    StartAt: 'Parse',
    States: {
      ...parseAndScanStates(SCAN_BRANCHES, 'Decide'),
      Decide: {
        Type: 'Task',
        Resource: arn('Decide'),
        TimeoutSeconds: 30,
        Retry: [retryTransient],
        Catch: [toFailSafe],
        Next: 'Route',
      },
      Route: {
        Type: 'Choice',
        Choices: [
          { Variable: '$.verdict.action', StringEquals: 'quarantine', Next: 'Quarantine' },
          { Variable: '$.verdict.action', StringEquals: 'reject', Next: 'Quarantine' },
        ],
        Default: 'Deliver',
      },
      Deliver: {
        Type: 'Task',
        Resource: arn('Deliver'),
        // The delivery budget (lambdas/contracts/delivery-budget.ts): every attempt timing out and Defer
        // still end inside Express's 5 minutes; the deferred queue retries for hours after that.
        TimeoutSeconds: DELIVER_STATE_TIMEOUT_S,
        Retry: [
          {
            ErrorEquals: ['TransientDeliveryError'],
            IntervalSeconds: DELIVER_RETRY.intervalSeconds,
            MaxAttempts: DELIVER_RETRY.maxAttempts,
            BackoffRate: DELIVER_RETRY.backoffRate,
          },
          retryTransient,
        ],
        // A server still unavailable after the retries is queued, as an MTA would: Defer records the
        // message DEFERRED and the scheduled reconciler retries it with backoff for delivery.maxQueueHours.
        // Only a permanent refusal (5xx) or an unexpected error is a failure for a person to look at.
        // A timed-out step is deferred too: the ledger knows which recipients were delivered, attempted
        // (outcome unknown: never re-sent) or untouched, and the next round acts on that alone.
        Catch: [
          {
            ErrorEquals: ['TransientDeliveryError', 'States.Timeout', 'Sandbox.Timedout'],
            ResultPath: '$.deferral',
            Next: 'Defer',
          },
          { ErrorEquals: ['States.ALL'], ResultPath: '$.deliveryFailure', Next: 'DeliveryFailed' },
        ],
        Next: 'Done',
      },
      Defer: recordDisposition,
      DeliveryFailed: recordDisposition,
      Quarantine: recordDisposition,
      // The message stays in S3 with no disposition; the scheduled reconciler re-drives it.
      ...failSafeStates('fail-safe quarantine failed; left for the reconciler'),
    },
  };
}

/** The definition as the exact string CDK deploys (before ARN substitution). */
export const inboundDefinitionString = (): string => JSON.stringify(inboundDefinition());
