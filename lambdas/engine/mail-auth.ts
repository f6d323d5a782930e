// DKIM, SPF, ARC and DMARC for one message: what mailauth's authenticate() computes, through the same
// mailauth functions, minus what the auth scanner never reads. authenticate() also parses every
// Received header (for a trustReceived option we do not use) and formats Authentication-Results and
// Received-SPF headers; and its DKIM pass looks for the end of the header block one byte at a time,
// keeping a sliding window in a fresh array per byte, which cost more than the rest of the check.
// Here the header block's end is found with indexOf and handed to mailauth's own verifier, parsed by
// mailauth's own header parser; the body goes to its body hashes in the 64 KiB pieces mailauth's
// writer would give them. Equivalence to authenticate() is tested (test/engine/mail-auth.test.ts).

import { isIP } from 'node:net';
import {
  type ARCResult,
  arc,
  type DKIMVerifyResult,
  type DNSResolver,
  dmarc,
  type SPFResult,
  spf,
} from 'mailauth';
import { DkimVerifier } from 'mailauth/lib/dkim/dkim-verifier.js';
import { parseHeaders } from 'mailauth/lib/tools.js';

/** The connection and envelope, as authenticate() takes them. */
export interface AuthOptions {
  readonly resolver: DNSResolver;
  readonly ip?: string;
  readonly helo?: string;
  /** MAIL FROM; without it DKIM takes the Return-Path header. */
  readonly sender?: string;
  /** This host's name, for SPF's comments. */
  readonly mta: string;
}

/** authenticate()'s dkim, spf, arc and dmarc results. */
export interface AuthResults {
  readonly dkim: Pick<DKIMVerifyResult, 'headerFrom' | 'envelopeFrom' | 'results'>;
  readonly spf: SPFResult | false;
  readonly arc: ARCResult;
  readonly dmarc: Awaited<ReturnType<typeof dmarc>>;
}

// The piece size of mailauth's writeToStream, which dkimVerify() feeds the verifier with.
const CHUNK_BYTES = 64 * 1024;

/**
 * Where the header block ends, as mailauth's verifier finds it: the first LF right after an LF or after
 * LF CR. The index of that LF, or -1 when there is no blank line.
 */
export function headerBlockEnd(bytes: Uint8Array): number {
  for (let i = bytes.indexOf(0x0a); i >= 0; i = bytes.indexOf(0x0a, i + 1)) {
    if (i >= 1 && bytes[i - 1] === 0x0a) return i;
    if (i >= 2 && bytes[i - 1] === 0x0d && bytes[i - 2] === 0x0a) return i;
  }
  return -1;
}

/**
 * dkimVerify() on `message`, whose line breaks are already as mailauth reads them (every LF after a CR,
 * see mailauthLineBreaks): the same verifier, given the same header block and body bytes.
 */
export async function verifyDkim(
  message: Buffer,
  opts: Pick<AuthOptions, 'resolver' | 'sender'>,
): Promise<AuthResults['dkim'] & { readonly arc: DkimVerifier['arc'] }> {
  const verifier = new DkimVerifier({
    resolver: opts.resolver,
    ...(opts.sender ? { sender: opts.sender } : {}),
  });
  const end = headerBlockEnd(message);
  if (end < 0) {
    // Headers only: mailauth's own reading, which keeps the bytes and parses them at the end.
    if (message.length) await verifier.processChunk(message);
  } else {
    await verifier.messageHeaders(parseHeaders(message.subarray(0, end + 1)));
    for (let at = 0; at < message.length; at += CHUNK_BYTES) {
      const from = Math.max(at, end + 1);
      const to = Math.min(at + CHUNK_BYTES, message.length);
      if (from < to) await verifier.nextChunk(message.subarray(from, to));
    }
  }
  await verifier.finish();
  const { headerFrom, envelopeFrom, results, arc } = verifier;
  return { headerFrom, envelopeFrom, results, arc };
}

/** authenticate(message, opts) without BIMI, sealing, the Received chain or the headers it formats. */
export async function authenticateMessage(message: Buffer, opts: AuthOptions): Promise<AuthResults> {
  const { resolver, ip, sender, mta } = opts;
  const dkim = await verifyDkim(message, opts);
  // authenticate()'s HELO: the IP when none was given, an IP in brackets.
  let helo = opts.helo || ip;
  if (helo && isIP(helo)) helo = `[${helo}]`;
  // Without an IP too, as authenticate() calls it: an SPF pass still counts for DMARC.
  const spfResult = await spf({
    resolver,
    ip: ip as string,
    mta,
    ...(helo ? { helo } : {}),
    ...(sender ? { sender } : {}),
  });
  // The verifier's ARC reading (its chain is false when there is none), which arc() takes as it is.
  const arcResult = await arc(dkim.arc as never, { resolver });
  const dmarcResult = await dmarc({
    headerFrom: dkim.headerFrom,
    spfDomains: spfResult && spfResult.status.result === 'pass' && spfResult.domain ? [spfResult.domain] : [],
    dkimDomains: dkim.results
      .filter((r) => r.status.result === 'pass')
      .map((r) => ({
        id: r.id,
        domain: r.signingDomain,
        aligned: r.status.aligned,
        underSized: r.status.underSized,
      })),
    arcResult,
    resolver,
  });
  return { dkim, spf: spfResult, arc: arcResult, dmarc: dmarcResult };
}
