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
  // Every guard reads the first 512 bytes at most, which the head holds; the ISO probe reads the head
  // when the size bound reaches it and the caller has not ruled it out.
  if (!(await someGuardHolds(head)) && (noIsoMark || !isoMarkIn(head))) return false;
  const parser = new HeadParser(head.length, sizeAtMost, noIsoMark);
  try {
    const type = await parser.fromBuffer(head);
    return type !== undefined || parser.reachedEnd;
  } catch {
    // A failure on the whole file is no type either, but this one may be the head's: decode it all.
    return true;
  }
}

// A quick no for most bytes, from file-type's own checks. file-type's two detectors are chains of
// `if (guard) { ...return a type... }`, and (reviewed in file-type's source, pinned by head-type.test.ts)
// every guard is a `check`/`checkString` of header bytes at an offset, but for three: a direct read of
// byte 0 in front of the swf check, the tar checksum behind a check of six zeros at 257, and the ISO 9660
// probe at 32769. A run on a probe in which every check fails records every guard (the probe's byte 0
// is `C`, so the swf check is reached). When none of those holds for some bytes, file-type on them takes
// the same all-failing path, which returns no type: so it is not run. Each guard is evaluated as file-type
// does: on the bytes peeked so far, zero past them and past the end.

interface Guard {
  readonly offset: number;
  readonly header: readonly number[];
  readonly mask: readonly number[] | undefined;
  /** How many bytes file-type had peeked when it made the check. */
  readonly peeked: number;
  /** The six zeros at 257 that the tar checksum follows. */
  readonly tar: boolean;
}

class GuardRecorder extends FileTypeParser {
  readonly guards = new Map<string, Guard>();
  private readonly peeked = new WeakMap<Uint8Array, number>();

  override async fromTokenizer(tokenizer: Tokenizer) {
    const peek = tokenizer.peekBuffer.bind(tokenizer);
    tokenizer.peekBuffer = (buf, opts) => {
      this.peeked.set(buf, Math.max(this.peeked.get(buf) ?? 0, opts?.length ?? buf.length));
      return peek(buf, opts);
    };
    return super.fromTokenizer(tokenizer);
  }

  check(header: readonly number[], options?: { offset?: number; mask?: readonly number[] }): boolean {
    const buffer = (this as unknown as { buffer: Uint8Array }).buffer;
    const offset = options?.offset ?? 0;
    const guard = {
      offset,
      header: [...header],
      mask: options?.mask ? [...options.mask] : undefined,
      peeked: this.peeked.get(buffer) ?? 0,
      tar: offset === 257 && header.length === 6 && header.every((b) => b === 0),
    };
    this.guards.set(JSON.stringify(guard), guard);
    return false;
  }
}

let recorded: Promise<readonly Guard[]> | undefined;
/** The guards once recorded, indexed: the quick no needs no await then. */
let guards: GuardIndex | undefined;

/**
 * The guards by the first byte they require (those at offset 0, unmasked, made on a peeked first byte),
 * and the others: on bytes that have a first byte, only its guards and the others can hold.
 */
interface GuardIndex {
  readonly all: readonly Guard[];
  readonly byFirst: readonly (readonly Guard[])[];
  readonly others: readonly Guard[];
}

function indexGuards(all: readonly Guard[]): GuardIndex {
  const byFirst: Guard[][] = Array.from({ length: 256 }, () => []);
  const others: Guard[] = [];
  for (const guard of all) {
    if (guard.offset === 0 && !guard.mask && guard.peeked >= 1 && guard.header.length >= 1)
      byFirst[guard.header[0] as number]?.push(guard);
    else others.push(guard);
  }
  return { all, byFirst, others };
}

/** Whether a guard of `index` holds on `bytes`. */
function holdsSome(index: GuardIndex, bytes: Uint8Array): boolean {
  if (bytes.length === 0) return index.all.some((guard) => holds(guard, bytes));
  for (const guard of index.byFirst[bytes[0] as number] as readonly Guard[])
    if (holds(guard, bytes)) return true;
  for (const guard of index.others) if (holds(guard, bytes)) return true;
  return false;
}
/** file-type's guards, recorded once per process. */
export function fileTypeGuards(): Promise<readonly Guard[]> {
  recorded ??= (async () => {
    const recorder = new GuardRecorder();
    const probe = new Uint8Array(ISO_PROBE_END + 1);
    probe[0] = 0x43;
    await recorder.fromBuffer(probe);
    const all = [...recorder.guards.values()];
    guards = indexGuards(all);
    return all;
  })();
  return recorded;
}

/** Whether `guard` holds on `bytes` (a whole file, or a head of at least 512 bytes). */
function holds(guard: Guard, bytes: Uint8Array): boolean {
  const seen = Math.min(guard.peeked, bytes.length);
  for (let i = 0; i < guard.header.length; i++) {
    const at = guard.offset + i;
    const b = at < seen ? (bytes[at] as number) : 0;
    // file-type: `header !== (mask[i] & byte)`, a missing mask entry masking all off.
    if ((guard.mask ? (guard.mask[i] as number) & b : b) !== guard.header[i]) return false;
  }
  return !guard.tar || mayBeTarSum(bytes);
}

/**
 * Whether the tar checksum field (6 bytes at 148, decoded as UTF-8 and read by parseInt(_, 8)) may be a
 * number: its first byte that is neither ASCII whitespace nor part of a multi-byte character is an octal
 * digit. Otherwise parseInt gives NaN and file-type's tar check fails.
 */
function mayBeTarSum(bytes: Uint8Array): boolean {
  for (let at = 148; at < 154; at++) {
    const b = at < bytes.length ? (bytes[at] as number) : 0;
    if (b === 32 || (b >= 9 && b <= 13) || b >= 0x80) continue;
    return b >= 0x30 && b <= 0x37;
  }
  return false;
}

const isoMarkIn = (bytes: Uint8Array): boolean =>
  bytes.length >= ISO_PROBE_END &&
  Buffer.from(bytes.subarray(ISO_MARK_AT, ISO_PROBE_END)).toString('latin1') === ISO_MARK;

/** Whether one of file-type's guards holds on `bytes` (a whole file, or a head of at least 512 bytes). */
async function someGuardHolds(bytes: Uint8Array): Promise<boolean> {
  await fileTypeGuards();
  return holdsSome(guards as GuardIndex, bytes);
}

/**
 * mayHaveType without an await once the guards are recorded: false when no guard holds on `bytes`, else
 * undefined (ask mayHaveType).
 */
export function mayHaveTypeNow(bytes: Uint8Array): false | undefined {
  if (!guards || bytes.length <= 1) return bytes.length <= 1 ? false : undefined;
  return holdsSome(guards, bytes) || isoMarkIn(bytes) ? undefined : false;
}

/** mayBeFile's quick no without an await, once the guards are recorded: false, or undefined (ask mayBeFile). */
export function mayBeFileNow(head: Uint8Array, sizeAtMost: number, noIsoMark = false): false | undefined {
  if (!guards || head.length < headBytesFor(sizeAtMost, noIsoMark) || sizeAtMost < head.length)
    return undefined;
  return holdsSome(guards, head) || (!noIsoMark && isoMarkIn(head)) ? undefined : false;
}

/** False only when file-type recognises no type in `bytes`, a whole file. */
export async function mayHaveType(bytes: Uint8Array): Promise<boolean> {
  return bytes.length > 1 && ((await someGuardHolds(bytes)) || isoMarkIn(bytes));
}
