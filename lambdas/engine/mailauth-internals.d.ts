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
    /** The body hashes the signatures need, by canonicalization, algorithm and l= (set by messageHeaders). */
    bodyHashes: Map<string, { update(chunk: Buffer): void }>;
  }
}

declare module 'mailauth/lib/dkim/body/relaxed.js' {
  /** mailauth's relaxed body canonicalization and hash. */
  export class RelaxedHash {
    constructor(algorithm?: string, maxBodyLength?: number | '');
    /** The l= limit, or '' when the signature has none. */
    maxBodyLength: number | '' | undefined;
    /** Body bytes given to it. */
    byteLength: number;
    update(chunk: Buffer | null, final?: boolean): void;
    /** One line, relaxed: WSP runs made one space, trailing WSP dropped, CR put before a bare LF. */
    fixLineBuffer(line: Buffer): Buffer;
    /** Hashes canonical bytes (and counts them, and looks for the MIME boundary in them). */
    _updateBodyHash(chunk: Buffer): void;
    digest(encoding: string): string;
  }
}

declare module 'mailauth/lib/tools.js' {
  /** The header block split into lines, as mailauth's verifier reads it. */
  export function parseHeaders(block: Buffer): unknown;
}
