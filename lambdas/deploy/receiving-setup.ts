// The CloudFormation custom resource behind SES receiving cut-over, two kinds in one function:
// - ActiveRuleSet: makes seg's rule set the active one, but refuses to replace another active set
//   unless told to; on delete it deactivates only seg's own set, never one activated later by hand.
// - VerifiedIdentity: waits until an SES domain identity is verified, so a Route 53 MX record that
//   depends on it (and on the activation) only moves mail once SES can accept it.
// It answers CloudFormation itself (PUT to the pre-signed ResponseURL): no provider framework.

import {
  DescribeActiveReceiptRuleSetCommand,
  type SESClient,
  SetActiveReceiptRuleSetCommand,
} from '@aws-sdk/client-ses';
import { GetEmailIdentityCommand, type SESv2Client } from '@aws-sdk/client-sesv2';

/** The properties of each resource kind, as CloudFormation passes them (strings). */
export type ReceivingSetupProps =
  | { readonly Kind: 'ActiveRuleSet'; readonly RuleSetName: string; readonly ReplaceActive?: string }
  | { readonly Kind: 'VerifiedIdentity'; readonly Identity: string };

/** The part of a CloudFormation custom resource request this function reads. */
export interface CustomResourceEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: ReceivingSetupProps & { readonly ServiceToken?: string };
}

export interface SetupResult {
  readonly physicalResourceId: string;
  readonly data?: Record<string, string>;
}

export interface ReceivingSetupDeps {
  readonly ses: Pick<SESClient, 'send'>;
  readonly sesv2: Pick<SESv2Client, 'send'>;
  /** Milliseconds left before the function must answer (Lambda's getRemainingTimeInMillis). */
  readonly remainingMs: () => number;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default 15_000 */
  readonly pollMs?: number;
}

/** Thrown when the region's active rule set is another one and replacing it was not allowed. */
export class ActiveRuleSetConflictError extends Error {
  override readonly name = 'ActiveRuleSetConflictError';
}

/** Thrown when an identity is still unverified when the function must answer. */
export class IdentityNotVerifiedError extends Error {
  override readonly name = 'IdentityNotVerifiedError';
}

/** Time kept to answer CloudFormation after the last poll. */
const ANSWER_MARGIN_MS = 20_000;

async function activeRuleSet(ses: ReceivingSetupDeps['ses']): Promise<string | undefined> {
  const out = await ses.send(new DescribeActiveReceiptRuleSetCommand({}));
  return out.Metadata?.Name;
}

/** What the resource does for one request; the result is CloudFormation's SUCCESS answer. */
export async function receivingSetup(
  event: CustomResourceEvent,
  deps: ReceivingSetupDeps,
): Promise<SetupResult> {
  const props = event.ResourceProperties;
  if (props.Kind === 'ActiveRuleSet') {
    const ours = props.RuleSetName;
    const physicalResourceId = `seg-active-receipt-rule-set:${ours}`;
    const active = await activeRuleSet(deps.ses);
    if (event.RequestType === 'Delete') {
      // Only our own set: a set activated by hand after the deploy stays active.
      if (active === ours) await deps.ses.send(new SetActiveReceiptRuleSetCommand({}));
      return { physicalResourceId: event.PhysicalResourceId ?? physicalResourceId };
    }
    if (active && active !== ours && props.ReplaceActive !== 'true') {
      throw new ActiveRuleSetConflictError(
        `receipt rule set "${active}" is active in this region and seg will not replace it: mail for its domains would stop being processed. Move its rules into "${ours}", or deploy with -c replaceActiveRuleSet=true to replace it (docs/deploy.md, "The active rule set").`,
      );
    }
    if (active !== ours) await deps.ses.send(new SetActiveReceiptRuleSetCommand({ RuleSetName: ours }));
    return { physicalResourceId, data: { PreviouslyActive: active ?? '' } };
  }
  if (props.Kind === 'VerifiedIdentity') {
    const physicalResourceId = `seg-verified-identity:${props.Identity}`;
    if (event.RequestType === 'Delete')
      return { physicalResourceId: event.PhysicalResourceId ?? physicalResourceId };
    const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    const pollMs = deps.pollMs ?? 15_000;
    for (;;) {
      const out = await deps.sesv2.send(new GetEmailIdentityCommand({ EmailIdentity: props.Identity }));
      if (out.VerificationStatus === 'SUCCESS' || out.VerifiedForSendingStatus === true) {
        return { physicalResourceId, data: { Status: 'SUCCESS' } };
      }
      if (out.VerificationStatus === 'FAILED' || deps.remainingMs() < pollMs + ANSWER_MARGIN_MS) {
        throw new IdentityNotVerifiedError(
          `SES identity ${props.Identity} is not verified (${out.VerificationStatus ?? out.DkimAttributes?.Status ?? 'unknown'}): publish its DKIM CNAME records, wait until SES shows it verified, then deploy again. The MX record was not changed.`,
        );
      }
      await sleep(pollMs);
    }
  }
  throw new Error(`unknown resource kind ${(props as { Kind?: string }).Kind}`);
}

/** Runs the request and answers CloudFormation with SUCCESS or FAILED (and the reason). */
export async function handleCustomResource(
  event: CustomResourceEvent,
  deps: ReceivingSetupDeps & { readonly fetch?: typeof fetch },
): Promise<void> {
  let answer: Record<string, unknown>;
  try {
    const result = await receivingSetup(event, deps);
    answer = { Status: 'SUCCESS', PhysicalResourceId: result.physicalResourceId, Data: result.data ?? {} };
  } catch (error) {
    answer = {
      Status: 'FAILED',
      Reason: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      // A failed create must still name a physical id; on delete CloudFormation then calls us with it.
      PhysicalResourceId: event.PhysicalResourceId ?? `seg-failed:${event.RequestId}`,
    };
  }
  const body = JSON.stringify({
    ...answer,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
  });
  // The pre-signed URL expects no content type.
  const response = await (deps.fetch ?? fetch)(event.ResponseURL, {
    method: 'PUT',
    body,
    headers: { 'content-type': '', 'content-length': String(Buffer.byteLength(body)) },
  });
  if (!response.ok) throw new Error(`CloudFormation response refused: HTTP ${response.status}`);
}
