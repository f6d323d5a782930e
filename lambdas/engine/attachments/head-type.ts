// Whether file-type could recognise a file of which only the first bytes are decoded. The lenient pass
// reads each body many ways; almost none of those readings is a file, and proving that from a reading's
// first bytes saves decoding the rest.
//
// file-type reads a buffer through a tokenizer. Here the tokenizer holds only the head and claims the
// file's size is `sizeAtMost` (an upper bound of the true size). Every read, peek or skip that reaches
// the end of the head is noted. When none did, the run saw exactly the bytes, and took exactly the
// branches, that a run on the whole file takes:
// - its reads within the head return the same bytes;
// - its size-dependent choices agree: `min(256 or 512, size)` (the head is longer than 512 bytes);
//   `size >= 32774`, the ISO 9660 probe (the bound is under it, or the head is longer than it); and every
//   other comparison of a position with the size (end-of-stream, skip limits, chunk loops) differs only
//   where the true size is smaller than the claimed one, and there the claimed run goes on to read past
//   the head, which is noted.
// So an unnoted run that recognises nothing proves the whole file is recognised as nothing.
//
// Past 32 KB the ISO probe would need a head that long. A caller that knows the reading cannot hold
// `CD001` at 32769 (`noIsoMark`) lets the probe read past the head unnoted: it then finds no mark, as
// the whole file's run would, and 513 bytes decide at any size.

import { FileTypeParser } from 'file-type';

type Tokenizer = Parameters<FileTypeParser['fromTokenizer']>[0];

// file-type peeks at most this much of a file it does not recognise (then, for a larger file, 5 bytes
// at 32769 for ISO 9660).
const PEEK_BYTES = 512;
export const ISO_MARK_AT = 32_769;
/** The ISO 9660 mark file-type probes for at 32769 in a file of 32774 bytes or more. */
export const ISO_MARK = 'CD001';
const ISO_PROBE_END = ISO_MARK_AT + ISO_MARK.length;

/** The head length a reading needs for `mayBeFile` to decide, given an upper bound of its size. */
export const headBytesFor = (sizeAtMost: number, noIsoMark = false): number =>
  (sizeAtMost < ISO_PROBE_END || noIsoMark ? PEEK_BYTES : ISO_PROBE_END) + 1;

class HeadParser extends FileTypeParser {
  /** True once file-type reached for a byte at or past the head's end. */
  reachedEnd = false;
  private patched = false;

  constructor(
    private readonly headLength: number,
    private readonly sizeAtMost: number,
    private readonly noIsoMark: boolean,
  ) {
    super();
  }

  override async fromTokenizer(tokenizer: Tokenizer) {
    // Only the outer tokenizer (a gzip probe reads through it and makes its own).
    if (!this.patched) {
      this.patched = true;
      const t = tokenizer as Tokenizer & { fileInfo: { size?: number } };
      t.fileInfo.size = this.sizeAtMost;
      const note = (position: number, length: number) => {
        const isoProbe = position === ISO_MARK_AT && length === ISO_MARK.length;
        if (position + length >= this.headLength && !(isoProbe && this.noIsoMark)) this.reachedEnd = true;
      };
      const peek = t.peekBuffer.bind(t);
      const read = t.readBuffer.bind(t);
      const ignore = t.ignore.bind(t);
      t.peekBuffer = (buf, opts) => {
        note(opts?.position ?? t.position, opts?.length ?? buf.length);
        return peek(buf, opts);
      };
      t.readBuffer = (buf, opts) => {
        note(opts?.position ?? t.position, opts?.length ?? buf.length);
        return read(buf, opts);
      };
      t.ignore = (length) => {
        note(t.position, length);
        return ignore(length);
      };
    }
    return super.fromTokenizer(tokenizer);
  }
}

/**
 * False only when file-type recognises no file whose first bytes are `head` and whose size is at most
 * `sizeAtMost` (and at least the head's), and, with `noIsoMark`, that has no `CD001` at 32769. True when
 * it might (or the head is too short to tell).
 */
export async function mayBeFile(head: Uint8Array, sizeAtMost: number, noIsoMark = false): Promise<boolean> {
  if (head.length < headBytesFor(sizeAtMost, noIsoMark) || sizeAtMost < head.length) return true;
  const parser = new HeadParser(head.length, sizeAtMost, noIsoMark);
  try {
    const type = await parser.fromBuffer(head);
    return type !== undefined || parser.reachedEnd;
  } catch {
    // A failure on the whole file is no type either, but this one may be the head's: decode it all.
    return true;
  }
}
