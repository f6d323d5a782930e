// mailauth's DKIM verifier with the header work done by dkim-headers.ts: its DKIM-Signature tag lists
// read by parseTagList(), and each signature's signed fields picked and canonicalized there (a field
// canonicalized once per message, however many signatures cover it). The rest is mailauth's: From,
// Return-Path and the ARC chain read by its messageHeaders(), the key lookups and the result shape
// below, which are its finalChunk()'s steps in its order, so the results are the same objects with the
// same keys. Equivalence to mailauth's authenticate() is property-tested (test/engine/mail-auth.test.ts)
// and was checked on the whole corpus.

import { createHash, randomUUID, verify } from 'node:crypto';
import { DkimVerifier } from 'mailauth/lib/dkim/dkim-verifier.js';
import { formatAuthHeaderRow, getAlignment, getPublicKey } from 'mailauth/lib/tools.js';
import { type ArcSet, arcChain, isArcField } from './arc-chain.ts';
import {
  canonicalizedHeader,
  type HeaderRow,
  parseTagList,
  relaxedLine,
  rowsByName,
  signedRows,
  type TagList,
  type TagValue,
} from './dkim-headers.ts';

/** A signature as mailauth's verifier keeps it: the tag list plus what messageHeaders() worked out. */
interface Signature extends TagList {
  type: 'DKIM' | 'ARC' | 'AS';
  algorithm: string;
  signAlgo: string;
  canonicalization: string;
  signingDomain: string;
  selector: string;
  timestamp: Date | null;
  expiration: Date | null;
  maxBodyLength: number | '';
  skip?: boolean;
  bodyHashKey: string;
  bodyHashedBytes?: number;
  canonicalizedLength?: number;
  sourceBodyLength?: number;
}

/** A body hash once finalChunk() has read it. */
interface BodyHash {
  hash?: string;
  mimeStructureStart?: number;
  bodyHashedBytes?: number;
  canonicalizedLength?: number;
  byteLength?: number;
  digest(encoding: 'base64'): string;
  getMimeStructureStart(): number;
}

/** mailauth's DKIM verifier, reading the DKIM-Signature tags and the signed fields with dkim-headers.ts. */
export class Verifier extends DkimVerifier {
  /** The DKIM-Signature rows' tag lists, read before mailauth's messageHeaders() runs. */
  declare private dkimSignatures: Signature[] | undefined;
  declare private signatures: Signature[];
  declare private relaxedRows: Map<HeaderRow, string> | undefined;
  /** The header rows by name, indexed once per message for every signature's signed fields. */
  declare private rowIndex: Map<string, number[]> | undefined;
  /** The ARC chain read by arcChain() (or the error it threw), before mailauth's messageHeaders() runs. */
  declare private arcReading: { chain: ArcSet[] | false } | { error: unknown } | undefined;

  /**
   * mailauth's messageHeaders() reads the ARC chain and makes its list of signatures from the
   * DKIM-Signature rows (read by its own tag reader), then goes on to set each one up (algorithms,
   * body hashes, the MIME boundary) with the last ARC set's. It is given the rows without the
   * DKIM-Signature and ARC ones: when it makes its (empty) list, ours is put in front and our chain
   * takes the place of its (empty) one, as its getARChain() would have set it.
   */
  set signatureHeaders(list: Signature[]) {
    this.signatures = [...(this.dkimSignatures ?? []), ...list];
    this.dkimSignatures = undefined;
    const reading = this.arcReading;
    this.arcReading = undefined;
    if (!reading) return;
    if ('error' in reading) {
      this.arc.error = reading.error as Error;
      return;
    }
    this.arc.chain = reading.chain as never;
    if (reading.chain && reading.chain.length > 0) this.arc.lastEntry = reading.chain.at(-1) as never;
  }

  get signatureHeaders(): Signature[] {
    return this.signatures;
  }

  override async messageHeaders(headers: { parsed: HeaderRow[]; original: Buffer }): Promise<void> {
    const rows = headers.parsed.filter((row) => row.key === 'dkim-signature');
    const sealed = headers.parsed.some((row) => isArcField(row.key));
    if (!rows.length && !sealed) return super.messageHeaders(headers);
    this.dkimSignatures = rows.map(
      (row) => Object.assign(parseTagList(row.line), { type: 'DKIM' }) as Signature,
    );
    if (sealed) {
      try {
        this.arcReading = { chain: arcChain(headers.parsed) };
      } catch (error) {
        this.arcReading = { error };
      }
    }
    await super.messageHeaders({
      parsed: headers.parsed.filter((row) => row.key !== 'dkim-signature' && !isArcField(row.key)),
      original: headers.original,
    });
    this.headers = headers;
  }

  /** A row's relaxed canonical text, made once per message. */
  private relaxedRow(row: HeaderRow): string {
    this.relaxedRows ??= new Map();
    let text = this.relaxedRows.get(row);
    if (text === undefined) {
      text = relaxedLine(row.line);
      this.relaxedRows.set(row, text);
    }
    return text;
  }

  /** mailauth's finalChunk(): the body hashes read out, then each signature checked, in its order. */
  override async finalChunk(): Promise<void> {
    try {
      if (!this.headers || !this.bodyHashes.size) return;
      const bodyHashes = this.bodyHashes as unknown as Map<string, BodyHash>;
      for (const bodyHash of bodyHashes.values()) {
        bodyHash.hash = bodyHash.digest('base64');
        bodyHash.mimeStructureStart = bodyHash.getMimeStructureStart();
      }
      for (const signature of this.signatureHeaders) {
        if (signature.skip) continue;
        await this.check(signature, bodyHashes.get(signature.bodyHashKey));
      }
    } finally {
      if (!this.results.length)
        this.results.push({ status: { result: 'none', comment: 'message not signed' } } as never);
      for (const result of this.results) result.info = formatAuthHeaderRow('dkim', result.status);
    }
  }

  /** One signature's result, as finalChunk() makes it. */
  private async check(signature: Signature, bodyHashState: BodyHash | undefined): Promise<void> {
    this.rowIndex ??= rowsByName(this.headers.parsed);
    const signed = signedRows(this.headers.parsed, tagOf(signature, 'h'), this.rowIndex);
    const canonical = canonicalizedHeader(
      signature.canonicalization,
      signed.headers,
      signature.original,
      (row) => this.relaxedRow(row),
    );
    const signingHeaders = {
      keys: signed.keys,
      headers: signed.headers.map((row) => row.line.toString()),
      canonicalizedHeader: canonical.toString('base64'),
    };
    const b = tagOf(signature, 'b') as string | undefined;
    let publicKey: unknown;
    let rr: unknown;
    let modulusLength: unknown;
    // biome-ignore lint/suspicious/noExplicitAny: mailauth's status object, keys added in its order.
    const status: any = {
      result: 'neutral',
      comment: false,
      header: {
        i: signature.signingDomain ? `@${signature.signingDomain}` : false,
        s: signature.selector,
        a: tagOf(signature, 'a'),
        b: b ? `${b.substr(0, 8)}` : false,
      },
    };
    if (signature.type === 'DKIM' && this.headerFrom?.length)
      status.aligned =
        (getAlignment(this.headerFrom[0]!.split('@').pop()!, [signature.signingDomain]) || undefined)
          ?.domain || false;
    const bodyHash = bodyHashState?.hash;
    const mimeStructureStart = bodyHashState?.mimeStructureStart;
    if (tagOf(signature, 'bh') !== bodyHash) {
      status.result = 'neutral';
      status.comment = 'body hash did not verify';
    } else {
      try {
        const res = await getPublicKey(
          signature.type,
          `${signature.selector}._domainkey.${signature.signingDomain}`,
          this.minBitLength,
          this.resolver,
        );
        publicKey = res?.publicKey;
        rr = res?.rr;
        modulusLength = res?.modulusLength;
        try {
          const rsa = signature.signAlgo === 'rsa';
          status.result = verify(
            rsa ? signature.algorithm : null,
            rsa ? canonical : createHash('sha256').update(canonical).digest(),
            publicKey as never,
            Buffer.from(b as string, 'base64'),
          )
            ? 'pass'
            : 'fail';
          if (status.result === 'fail') status.comment = 'bad signature';
          if (status.result === 'pass') {
            if (signature.expiration && signature.timestamp && signature.expiration < signature.timestamp) {
              status.result = 'neutral';
              status.comment = 'invalid expiration';
            }
            if (signature.expiration && signature.expiration < this.curTime) {
              status.result = 'neutral';
              status.comment = 'expired';
            }
          }
        } catch (err) {
          status.result = 'neutral';
          status.comment = (err as Error).message;
        }
      } catch (err) {
        const e = err as { rr?: unknown; code?: string; message: string };
        if (e.rr) rr = e.rr;
        keyError(status, e);
      }
    }
    signature.bodyHashedBytes = bodyHashState?.bodyHashedBytes;
    signature.canonicalizedLength = bodyHashState?.canonicalizedLength;
    signature.sourceBodyLength = bodyHashState?.byteLength;
    // biome-ignore lint/suspicious/noExplicitAny: mailauth's result object, keys added in its order.
    const result: any = {
      id: b ? createHash('sha256').update(Buffer.from(b, 'base64')).digest('hex') : randomUUID(),
      signingDomain: signature.signingDomain,
      selector: signature.selector,
      signature: b,
      algo: tagOf(signature, 'a'),
      format: tagOf(signature, 'c'),
      bodyHash,
      bodyHashExpecting: tagOf(signature, 'bh'),
      signingHeaders,
      status,
      signTime: signature.timestamp ? signature.timestamp.toISOString() : null,
      expiresAfter: signature.expiration ? signature.expiration.toISOString() : null,
      signatureTimeValid: this.getSignatureTimeValid(signature),
    };
    if (typeof signature.sourceBodyLength === 'number') result.sourceBodyLength = signature.sourceBodyLength;
    if (typeof signature.bodyHashedBytes === 'number') result.canonBodyLength = signature.bodyHashedBytes;
    if (typeof signature.canonicalizedLength === 'number')
      result.canonBodyLengthTotal = signature.canonicalizedLength;
    if (typeof signature.maxBodyLength === 'number') {
      result.canonBodyLengthLimited = true;
      result.canonBodyLengthLimit = signature.maxBodyLength;
      if (result.canonBodyLengthTotal > result.canonBodyLength)
        status.underSized = result.canonBodyLengthTotal - result.canonBodyLength;
    } else {
      result.canonBodyLengthLimited = false;
    }
    if (typeof mimeStructureStart === 'number') result.mimeStructureStart = mimeStructureStart;
    if (publicKey) result.publicKey = (publicKey as { toString(): string }).toString();
    if (modulusLength) result.modulusLength = modulusLength;
    if (rr) result.rr = rr;
    if (typeof status.comment === 'boolean') delete status.comment;
    if (signature.type === 'ARC') {
      if (this.arc.lastEntry) this.arc.lastEntry.messageSignature = result;
    } else {
      this.results.push(result);
    }
  }
}

/** A tag's value in a signature's tag list. */
function tagOf(signature: TagList, name: string): TagValue['value'] | undefined {
  return (signature.parsed[name] as TagValue | undefined)?.value;
}

/** What a failed key lookup makes of the status, as finalChunk() words it. */
function keyError(
  status: { result: string; comment?: unknown; policy?: Record<string, string> },
  err: { code?: string; message: string },
) {
  switch (err.code) {
    case 'ENOTFOUND':
    case 'ENODATA':
      status.result = 'neutral';
      status.comment = 'no key';
      break;
    case 'EINVALIDVER':
      status.result = 'neutral';
      status.comment = 'unknown key version';
      break;
    case 'EINVALIDTYPE':
      status.result = 'neutral';
      status.comment = 'unknown key type';
      break;
    case 'EINVALIDVAL':
      status.result = 'neutral';
      status.comment = 'invalid public key';
      break;
    case 'ESHORTKEY':
      status.result = 'policy';
      status.policy ??= {};
      status.policy['dkim-rules'] = 'weak-key';
      break;
    default:
      status.result = 'temperror';
      status.comment = `DNS failure: ${err.code || err.message}`;
  }
}
