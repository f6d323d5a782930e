// Types for the two mailauth modules the auth check reaches past the package's entry point for (mailauth
// ships no declarations for them). Only what mail-auth.ts uses; the shapes are mailauth 4's.

declare module 'mailauth/lib/dkim/dkim-verifier.js' {
  import type { ARCSigningData, DKIMResult, DKIMVerifyOptions } from 'mailauth';

  /** mailauth's DKIM verifier: a Writable fed the message, which dkimVerify() drives. */
  export class DkimVerifier {
    constructor(options: DKIMVerifyOptions);
    headerFrom: string[];
    envelopeFrom: string | false;
    results: DKIMResult[];
    arc: ARCSigningData;
    /** Reads header bytes (one byte at a time) until the blank line, then body bytes. */
    processChunk(chunk: Buffer): Promise<void>;
    /** Takes the parsed header block: the signatures, From, Return-Path and the ARC chain. */
    messageHeaders(headers: unknown): Promise<void>;
    /** Feeds body bytes to the body hashes. */
    nextChunk(chunk: Buffer): Promise<void>;
    /** Finishes the body hashes and verifies each signature. */
    finish(): Promise<void>;
  }
}

declare module 'mailauth/lib/tools.js' {
  /** The header block split into lines, as mailauth's verifier reads it. */
  export function parseHeaders(block: Buffer): unknown;
}
