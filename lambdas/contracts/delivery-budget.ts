// The delivery time budget, derived from the Express workflow limit and shared by the workflow
// definition (Deliver's timeout and retries), the Lambda timeout (lib/functions.ts) and the SMTP mailer,
// so a black-holed server ends in Defer inside the execution, and a test checks the sum.

/** Express workflows end after 5 minutes, whatever state they are in. */
export const EXPRESS_LIMIT_S = 300;

/** What Parse, Scan and Decide take before Deliver on a message within the limits (budgeted, not summed timeouts). */
export const PRE_DELIVERY_ALLOWANCE_S = 60;

/** nodemailer's per-phase waits for one SMTP transaction. */
export const SMTP_TIMEOUTS_MS = {
  /** TCP (and TLS) connection established. */
  connect: 10_000,
  /** The server's 220 greeting after connecting. */
  greeting: 10_000,
  /** Silence on the socket in any later phase (EHLO ... end of DATA reply). */
  socket: 20_000,
} as const;

/**
 * One SMTP transaction's hard deadline, whatever the server trickles: the mailer gives up after it.
 * At least the three waits back to back, so a server that uses each one fully still gets its chance.
 */
export const SMTP_ATTEMPT_MS = 45_000;

/** The Deliver Lambda's timeout: an attempt (domains go out in parallel) plus the ledger writes around it. */
export const DELIVER_FUNCTION_TIMEOUT_S = 55;

/** Deliver's TimeoutSeconds in the workflow: above the function's, so Step Functions sees the function's own error. */
export const DELIVER_STATE_TIMEOUT_S = 60;

/** Deliver's Retry for TransientDeliveryError; the reconciler's deferred queue retries after that. */
export const DELIVER_RETRY = { intervalSeconds: 10, maxAttempts: 1, backoffRate: 2 } as const;

/** The Defer state's TimeoutSeconds (it records the DEFERRED disposition). */
export const DEFER_STATE_TIMEOUT_S = 60;

/** Worst case from entering Deliver to leaving Defer: every attempt times out, then Defer runs once. */
export function deliveryWorstCaseS(
  stateTimeoutS: number,
  retry: { readonly intervalSeconds: number; readonly maxAttempts: number; readonly backoffRate: number },
  deferTimeoutS: number,
): number {
  let backoff = 0;
  for (let i = 0; i < retry.maxAttempts; i++) backoff += retry.intervalSeconds * retry.backoffRate ** i;
  return (1 + retry.maxAttempts) * stateTimeoutS + backoff + deferTimeoutS;
}
