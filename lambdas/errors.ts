// The handlers' error classes. Step Functions matches Retry/Catch on the error `name`, so each class
// sets a stable name (see lib/workflow/inbound-definition.ts). Problems inside the pipeline (bad mail,
// a failing scanner) are results, not exceptions: these are for the edges only.

/** Options passed through to Error, so the original error travels as `cause`. */
interface ErrorOptions {
  readonly cause?: unknown;
}

/** Worth retrying: storage or network hiccups. The workflow retries 'TransientError' with backoff. */
export class TransientError extends Error {
  override readonly name: string = 'TransientError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** The downstream SMTP server answered 4xx or the connection failed; retried by the Deliver state. */
export class TransientDeliveryError extends TransientError {
  override readonly name: string = 'TransientDeliveryError';
  constructor(
    message: string,
    /** The SMTP response code, when the server answered. */
    readonly responseCode?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * The whole message went out but the server's reply never came (timeout or cut connection after the
 * end of DATA): it may have been delivered. Never retried (that could send a second copy); the ledger
 * records the recipients as UNCONFIRMED for a person to check.
 */
export class UnconfirmedDeliveryError extends Error {
  override readonly name: string = 'UnconfirmedDeliveryError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** The downstream SMTP server answered 5xx: retrying will not help; the workflow quarantines. */
export class PermanentDeliveryError extends Error {
  override readonly name: string = 'PermanentDeliveryError';
  constructor(
    message: string,
    readonly responseCode?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The handler's input event does not have the expected shape: a wiring bug, never retried. */
export class MalformedEventError extends Error {
  override readonly name: string = 'MalformedEventError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** A stored object or item does not exist. Handlers decide whether that is transient or final. */
export class NotFoundError extends Error {
  override readonly name: string = 'NotFoundError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** The antivirus engine did not answer (not running, timed out, refused the stream). The scanner yields AV_ERROR. */
export class AntivirusUnavailableError extends Error {
  override readonly name: string = 'AntivirusUnavailableError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}
