// Types for the mailauth modules the auth check reaches past the package's entry point for (mailauth
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
    /** The header block messageHeaders() was given. */
    headers: { parsed: import('./dkim-headers.ts').HeaderRow[]; original: Buffer };
    resolver: DKIMVerifyOptions['resolver'];
    minBitLength: number | undefined;
    /** The time signatures are checked at. */
    curTime: Date;
    /** Reads the body hashes and checks each signature (what finish() ends in). */
    finalChunk(): Promise<void>;
    /** Whether a signature's t= and x= contain curTime. */
    getSignatureTimeValid(signature: { timestamp: Date | null; expiration: Date | null }): boolean;
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
  import type { HeaderRow, TagList } from './dkim-headers.ts';
  /** The header block split into lines, as mailauth's verifier reads it. */
  export function parseHeaders(block: Buffer): unknown;
  /** A DKIM-Signature (or ARC, or DNS key record) tag list. */
  export function parseDkimHeaders(line: Buffer | string): TagList;
  /** The names mailauth signs, and looks for when a signature has no h= list: colon-separated. */
  export const defaultDKIMFieldNames: string;
  /** The rows an h= list signs, and their names as written joined by ': '. */
  export function getSigningHeaderLines(
    rows: readonly HeaderRow[],
    h: unknown,
    verify: boolean,
  ): { keys: string; headers: HeaderRow[] };
  /** A header's relaxed canonical form (with `suffix` after it). */
  export function formatRelaxedLine(line: Buffer, suffix?: string): Buffer;
  /** The key a selector publishes; throws with a code (ENOTFOUND, EINVALIDVAL, ESHORTKEY...) when unusable. */
  export function getPublicKey(
    type: string,
    name: string,
    minBitLength: number | undefined,
    resolver: unknown,
  ): Promise<{ publicKey: unknown; rr: string; modulusLength?: number }>;
  /** Throws (code EINVALIDALGO) unless `algorithm` is rsa or ed25519 with sha256 (or, not strict, sha1). */
  export function validateAlgorithm(algorithm: unknown, strict?: boolean): void;
  /** An Authentication-Results row for one method's status. */
  export function formatAuthHeaderRow(method: string, status: unknown): string;
  /** The entry of `domains` aligned with `fromDomain` (organizational domains), or false. */
  export function getAlignment(
    fromDomain: string,
    domains: string[],
    strict?: boolean,
  ): { domain: string } | false;
}

declare module 'mailauth/lib/dkim/header/index.js' {
  import type { HeaderRow } from './dkim-headers.ts';
  /** The bytes a signature's header hash covers. */
  export function generateCanonicalizedHeader(
    type: string,
    signed: { keys: string; headers: HeaderRow[] },
    options: { signatureHeaderLine: Buffer; canonicalization: string; instance?: unknown },
  ): { canonicalizedHeader: Buffer };
}

declare module 'mailauth/lib/arc/index.js' {
  /** The ARC sets of a header block, by instance; false without any; throws for a broken chain. */
  export function getARChain(headers: { parsed: import('./dkim-headers.ts').HeaderRow[] }): unknown;
}
