// Opens the archive formats we can read without native code: zip (yauzl), gzip (node's zlib) and tar
// (a 512-byte header walk). Every read is bounded before it happens: entry count, declared size,
// compression ratio. 7z, rar, cab, bz2 and xz are only identified by type (the scanner applies policy).

import { crc32, gunzipSync, inflateRawSync } from 'node:zlib';
import yauzl from 'yauzl';
import { zipDecrypt } from './zip-crypto.ts';

/** One member read out of an archive. */
export interface ArchiveMember {
  readonly name: string;
  readonly bytes: Buffer;
}

/** Why an archive (or one member) was not fully read. */
export interface ArchiveProblem {
  readonly kind: 'entries' | 'size' | 'ratio' | 'encrypted' | 'corrupt';
  /** The member concerned ('' for the archive as a whole). */
  readonly member: string;
  readonly detail: string;
}

export interface ArchiveBounds {
  /** Entries listed at most; the rest are not read. */
  readonly maxEntries: number;
  /** Largest member inflated, in bytes. */
  readonly maxMemberBytes: number;
  /** All members together, in bytes: what is left of the message's byte budget. */
  readonly maxTotalBytes: number;
  /** Uncompressed/compressed size above which a member is a bomb and is not inflated. */
  readonly maxRatio: number;
  /** Passwords to try on encrypted (ZipCrypto) members, e.g. found in the message text. */
  readonly passwords?: readonly string[];
}

export interface ArchiveListing {
  readonly members: readonly ArchiveMember[];
  readonly problems: readonly ArchiveProblem[];
  /** Every entry name listed, read or not (encrypted and oversized members included). */
  readonly names: readonly string[];
}

export type ArchiveKind = 'zip' | 'gzip' | 'tar';

/** The kind of archive `bytes` is, by its magic bytes, when we can open it. */
export function archiveKind(bytes: Uint8Array): ArchiveKind | undefined {
  if (bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) return 'zip';
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return 'gzip';
  if (bytes.length >= 512 && Buffer.from(bytes.subarray(257, 262)).toString('latin1') === 'ustar')
    return 'tar';
  return undefined;
}

/** Lists and reads `bytes` as an archive of `kind`, within `bounds`. Never throws. */
export async function openArchive(
  kind: ArchiveKind,
  bytes: Buffer,
  bounds: ArchiveBounds,
): Promise<ArchiveListing> {
  try {
    if (kind === 'zip') return await readZip(bytes, bounds);
    if (kind === 'gzip') return readGzip(bytes, bounds);
    return readTar(bytes, bounds);
  } catch (err) {
    return { members: [], names: [], problems: [corrupt(err)] };
  }
}

const corrupt = (err: unknown): ArchiveProblem => ({
  kind: 'corrupt',
  member: '',
  detail: String((err as Error)?.message ?? err).slice(0, 200),
});

/** The bound a member of `size` bytes packed into `packed` bytes crosses, if any. */
function crossed(
  size: number,
  packed: number,
  bounds: ArchiveBounds,
  budget: number,
): ArchiveProblem['kind'] | undefined {
  if (size > Math.min(bounds.maxMemberBytes, budget)) return 'size';
  // A member under 1 MB cannot hurt whatever its ratio; tiny highly repetitive files are ordinary.
  if (size > 1024 * 1024 && size / Math.max(packed, 1) > bounds.maxRatio) return 'ratio';
  return undefined;
}

async function readZip(bytes: Buffer, bounds: ArchiveBounds): Promise<ArchiveListing> {
  const zip = await yauzl.fromBufferPromise(bytes, {
    lazyEntries: true,
    decodeStrings: true,
    validateEntrySizes: true,
    strictFileNames: false,
  });
  const members: ArchiveMember[] = [];
  const problems: ArchiveProblem[] = [];
  const names: string[] = [];
  let budget = bounds.maxTotalBytes;
  try {
    for (;;) {
      const entry = await nextEntry(zip);
      if (!entry) break;
      if (names.length >= bounds.maxEntries) {
        problems.push({
          kind: 'entries',
          member: '',
          detail: `${zip.entryCount} entries, listed the first ${bounds.maxEntries}`,
        });
        break;
      }
      names.push(entry.fileName);
      if (entry.fileName.endsWith('/')) continue;
      const over = crossed(entry.uncompressedSize, entry.compressedSize, bounds, budget);
      if (entry.isEncrypted()) {
        const opened = over ? undefined : await decryptEntry(zip, entry, bounds.passwords ?? [], budget);
        problems.push({
          kind: 'encrypted',
          member: entry.fileName,
          detail: opened
            ? `decrypted with "${opened.password}", a password found in the message`
            : 'encrypted entry',
        });
        if (opened) {
          budget -= opened.bytes.length;
          members.push({ name: entry.fileName, bytes: opened.bytes });
        }
        continue;
      }
      if (over) {
        problems.push({
          kind: over,
          member: entry.fileName,
          detail: `${entry.uncompressedSize} bytes from ${entry.compressedSize}`,
        });
        continue;
      }
      try {
        const data = await readEntry(zip, entry);
        budget -= data.length;
        members.push({ name: entry.fileName, bytes: data });
      } catch (err) {
        problems.push({ ...corrupt(err), member: entry.fileName });
      }
    }
  } finally {
    zip.close();
  }
  return { members, problems, names };
}

function nextEntry(zip: yauzl.ZipFile): Promise<yauzl.Entry | undefined> {
  return new Promise((resolve, reject) => {
    const onEntry = (e: yauzl.Entry): void => done(() => resolve(e));
    const onEnd = (): void => done(() => resolve(undefined));
    const onError = (err: Error): void => done(() => reject(err));
    const done = (f: () => void): void => {
      zip.off('entry', onEntry).off('end', onEnd).off('error', onError);
      f();
    };
    zip.on('entry', onEntry).on('end', onEnd).on('error', onError);
    zip.readEntry();
  });
}

// Passwords tried per encrypted entry: a message names one or two; this bounds the work on a list.
const MAX_PASSWORDS = 20;

/** Tries `passwords` on a ZipCrypto entry; the packed data is read raw and inflated within `budget`. */
async function decryptEntry(
  zip: yauzl.ZipFile,
  entry: yauzl.Entry,
  passwords: readonly string[],
  budget: number,
): Promise<{ password: string; bytes: Buffer } | undefined> {
  if (passwords.length === 0 || (entry.compressionMethod !== 0 && entry.compressionMethod !== 8))
    return undefined;
  const stream = await zip.openReadStreamPromise(entry, { decodeFileData: false });
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  // With a data descriptor (bit 3) the check byte is the time's high byte, else the CRC's.
  const check = entry.generalPurposeBitFlag & 0x8 ? (entry.lastModFileTime >> 8) & 0xff : entry.crc32 >>> 24;
  for (const password of passwords.slice(0, MAX_PASSWORDS)) {
    const packed = zipDecrypt(raw, password, check);
    if (!packed) continue;
    try {
      const bytes =
        entry.compressionMethod === 8
          ? inflateRawSync(packed, { maxOutputLength: Math.max(1, budget) })
          : packed;
      if (crc32(bytes) >>> 0 === entry.crc32 >>> 0) return { password, bytes };
    } catch {
      // Wrong password that passed the one-byte check: the inflate fails or the CRC differs.
    }
  }
  return undefined;
}

/** Reads one entry; yauzl stops the inflater if it yields more than the declared size (a lying header). */
async function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Buffer> {
  const stream = await zip.openReadStreamPromise(entry);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function readGzip(bytes: Buffer, bounds: ArchiveBounds): ArchiveListing {
  // ISIZE (the last 4 bytes) is the declared size mod 2^32: a cheap first check before inflating.
  const declared = bytes.length >= 18 ? bytes.readUInt32LE(bytes.length - 4) : 0;
  const over = crossed(declared, bytes.length, bounds, bounds.maxTotalBytes);
  const name = gzipName(bytes);
  if (over) {
    return {
      members: [],
      names: [name],
      problems: [{ kind: over, member: name, detail: `${declared} bytes` }],
    };
  }
  // maxOutputLength makes zlib stop, not allocate, when the declared size lied.
  const limit = Math.min(
    bounds.maxMemberBytes,
    bounds.maxTotalBytes,
    Math.max(1024 * 1024, bytes.length * bounds.maxRatio),
  );
  try {
    return {
      members: [{ name, bytes: gunzipSync(bytes, { maxOutputLength: limit }) }],
      names: [name],
      problems: [],
    };
  } catch (err) {
    const tooBig = (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError;
    return {
      members: [],
      names: [name],
      problems: [
        tooBig
          ? { kind: 'ratio', member: name, detail: `inflates beyond ${limit} bytes` }
          : { ...corrupt(err), member: name },
      ],
    };
  }
}

/** The original file name stored in a gzip header (FNAME), or ''. */
function gzipName(bytes: Buffer): string {
  const flags = bytes[3] ?? 0;
  if (!(flags & 0x08)) return '';
  let pos = 10;
  if (flags & 0x04) pos += 2 + bytes.readUInt16LE(10);
  const end = bytes.indexOf(0, pos);
  return end < 0 ? '' : bytes.subarray(pos, Math.min(end, pos + 255)).toString('latin1');
}

function readTar(bytes: Buffer, bounds: ArchiveBounds): ArchiveListing {
  const members: ArchiveMember[] = [];
  const problems: ArchiveProblem[] = [];
  const names: string[] = [];
  let budget = bounds.maxTotalBytes;
  for (let pos = 0; pos + 512 <= bytes.length; ) {
    const header = bytes.subarray(pos, pos + 512);
    if (header.every((b) => b === 0)) break;
    const field = (at: number, len: number): string =>
      header
        .subarray(at, at + len)
        .toString('latin1')
        .replace(/\0.*$/s, '');
    const prefix = field(345, 155);
    const name = prefix ? `${prefix}/${field(0, 100)}` : field(0, 100);
    const size = Number.parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1);
    if (!Number.isFinite(size) || size < 0) {
      problems.push({ kind: 'corrupt', member: name, detail: 'bad size field' });
      break;
    }
    if (names.length >= bounds.maxEntries) {
      problems.push({ kind: 'entries', member: '', detail: `more than ${bounds.maxEntries} entries` });
      break;
    }
    names.push(name);
    const start = pos + 512;
    if (type === '0' || type === '' || type === '7') {
      if (size > Math.min(bounds.maxMemberBytes, budget))
        problems.push({ kind: 'size', member: name, detail: `${size} bytes` });
      else {
        const data = bytes.subarray(start, Math.min(bytes.length, start + size));
        budget -= data.length;
        members.push({ name, bytes: data });
      }
    }
    pos = start + Math.ceil(size / 512) * 512;
  }
  return { members, problems, names };
}
