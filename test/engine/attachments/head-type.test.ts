import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { fileTypeFromBuffer } from 'file-type';
import { describe, expect, it } from 'vitest';
import {
  fileTypeGuards,
  headBytesFor,
  mayBeFile,
  mayHaveType,
} from '../../../lambdas/engine/attachments/head-type.ts';
import { buildZip } from '../../support/zip.ts';

// Starts of real files and of what file-type types from a few bytes (mp3 frame sync, aac, ID3, tar,
// ISO 9660), planted at the start (or, for tar and ISO, at their offsets) of random or text bytes.
const STARTS: readonly { at: number; bytes: Buffer }[] = [
  { at: 0, bytes: buildZip([{ name: 'a.txt', data: Buffer.from('hello '.repeat(50)) }]) },
  { at: 0, bytes: Buffer.from('%PDF-1.7\n') },
  { at: 0, bytes: Buffer.from('MZ\x90\x00', 'latin1') },
  { at: 0, bytes: gzipSync(Buffer.from('x'.repeat(2000))) },
  { at: 0, bytes: Buffer.from('Rar!\x1a\x07\x00', 'latin1') },
  { at: 0, bytes: Buffer.from('377abcaf271c', 'hex') },
  { at: 0, bytes: Buffer.from('d0cf11e0a1b11ae1', 'hex') },
  { at: 0, bytes: Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex') },
  { at: 0, bytes: Buffer.from('ID3\x03\x00\x00\x00\x00\x10\x00', 'latin1') },
  { at: 0, bytes: Buffer.from('fff1', 'hex') },
  { at: 0, bytes: Buffer.from('fffb', 'hex') },
  { at: 0, bytes: Buffer.from('BEGIN:VCALENDAR\r\n') },
  { at: 4, bytes: Buffer.from('ftypisom') },
  { at: 257, bytes: Buffer.from('ustar\x0000', 'latin1') },
  { at: 32_769, bytes: Buffer.from('CD001') },
];

const fileLike = fc
  .record({
    size: fc.oneof(fc.integer({ min: 520, max: 3000 }), fc.integer({ min: 32_000, max: 34_000 })),
    start: fc.option(fc.constantFrom(...STARTS), { nil: undefined }),
    text: fc.boolean(),
    seed: fc.integer({ min: 0, max: 1 << 30 }),
  })
  .map(({ size, start, text, seed }) => {
    const bytes = Buffer.alloc(size);
    let x = seed | 1;
    for (let i = 0; i < size; i++) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      bytes[i] = text ? 32 + (x % 95) : x & 0xff;
    }
    if (start && start.at + start.bytes.length <= size) start.bytes.copy(bytes, start.at);
    return bytes;
  });

describe('mayBeFile', () => {
  it('never says no when file-type recognises the whole file', async () => {
    await fc.assert(
      fc.asyncProperty(
        fileLike,
        fc.integer({ min: 0, max: 2000 }),
        fc.integer({ min: 0, max: 5000 }),
        fc.boolean(),
        async (bytes, extraHead, slack, noIsoMark) => {
          // The caller's promise: no ISO 9660 mark at 32769.
          if (noIsoMark && bytes.subarray(32_769, 32_774).toString('latin1') === 'CD001') return;
          const headLength = Math.min(
            bytes.length,
            headBytesFor(bytes.length + slack, noIsoMark) + extraHead,
          );
          const head = bytes.subarray(0, headLength);
          if (!(await mayBeFile(head, bytes.length + slack, noIsoMark))) {
            expect(await fileTypeFromBuffer(bytes)).toBeUndefined();
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('says no for the start of prose and of random bytes file-type does not know', async () => {
    const prose = Buffer.from('Dear colleagues, the meeting moves to Thursday afternoon. '.repeat(30));
    expect(await mayBeFile(prose.subarray(0, 600), prose.length)).toBe(false);
    expect(await fileTypeFromBuffer(prose)).toBeUndefined();
  });

  it('says yes for the start of a pdf, a zip and an exe', async () => {
    for (const start of ['%PDF-1.4\n', 'PK\x03\x04', 'MZ\x90\x00']) {
      const bytes = Buffer.concat([Buffer.from(start, 'latin1'), Buffer.alloc(2000, 0x41)]);
      expect(await mayBeFile(bytes.subarray(0, 600), bytes.length)).toBe(true);
    }
  });

  it('says yes when the head is too short to tell, or the bound is below the head', async () => {
    const prose = Buffer.from('plain words '.repeat(5000));
    expect(await mayBeFile(prose.subarray(0, 400), prose.length)).toBe(true);
    // Over 32774 bytes file-type also probes for ISO 9660 at 32769: a 600-byte head cannot rule that out.
    expect(await mayBeFile(prose.subarray(0, 600), prose.length)).toBe(true);
    expect(await mayBeFile(prose.subarray(0, 600), 500)).toBe(true);
  });

  it('decides on 513 bytes at any size when the caller rules out the ISO 9660 mark', async () => {
    const prose = Buffer.from('plain words '.repeat(5000));
    expect(await mayBeFile(prose.subarray(0, 600), prose.length, true)).toBe(false);
    const iso = Buffer.from(prose);
    iso.write('CD001', 32_769, 'latin1');
    expect(await fileTypeFromBuffer(iso)).toMatchObject({ ext: 'iso' });
    expect(await mayBeFile(iso.subarray(0, 600), iso.length)).toBe(true);
  });
});

/** Bytes that make `guard` hold: its header under its mask, at its offset, in `fill`. */
async function planted(index: number, fill: Buffer): Promise<Buffer> {
  const guard = (await fileTypeGuards())[index]!;
  const bytes = Buffer.from(fill);
  guard.header.forEach((b, i) => {
    const mask = guard.mask ? (guard.mask[i] ?? 0) : 0xff;
    const at = guard.offset + i;
    bytes[at] = ((bytes[at] ?? 0) & ~mask) | b;
  });
  if (guard.tar && bytes.length >= 155) bytes.write('0000000', 148, 'latin1');
  return bytes;
}

const randomBytes = (size: number, seed: number, text: boolean): Buffer => {
  const bytes = Buffer.alloc(size);
  let x = seed | 1;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    bytes[i] = text ? 32 + (x % 95) : x & 0xff;
  }
  return bytes;
};

describe('mayHaveType', () => {
  it('never says no when file-type recognises the bytes', async () => {
    const guards = await fileTypeGuards();
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1200 }),
        fc.integer({ min: 0, max: 1 << 30 }),
        fc.boolean(),
        fc.option(fc.integer({ min: 0, max: guards.length - 1 }), { nil: undefined }),
        fc.option(fc.constantFrom(...STARTS), { nil: undefined }),
        async (size, seed, text, guard, start) => {
          let bytes = randomBytes(size, seed, text);
          if (guard !== undefined) bytes = await planted(guard, bytes);
          if (start && start.at + start.bytes.length <= bytes.length) start.bytes.copy(bytes, start.at);
          if (!(await mayHaveType(bytes))) expect(await fileTypeFromBuffer(bytes)).toBeUndefined();
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('says yes for every file-type guard that holds, in text, random bytes or zeros', async () => {
    const guards = await fileTypeGuards();
    // The guards of about every type file-type knows, the swf one behind its byte-0 read included.
    expect(guards.length).toBeGreaterThan(100);
    expect(guards.some((g) => g.offset === 1 && String.fromCharCode(...g.header) === 'WS')).toBe(true);
    for (const [i, g] of guards.entries()) {
      for (const fill of [randomBytes(600, i, true), randomBytes(600, i, false), Buffer.alloc(600)]) {
        expect(await mayHaveType(await planted(i, fill)), JSON.stringify(g)).toBe(true);
      }
    }
  });

  it('says yes for real files and an ISO 9660 image, no for prose, html and short text', async () => {
    expect(await mayHaveType(buildZip([{ name: 'a.txt', data: Buffer.from('hello') }]))).toBe(true);
    expect(await mayHaveType(gzipSync(Buffer.from('x'.repeat(100))))).toBe(true);
    const iso = Buffer.from('plain words '.repeat(3000));
    iso.write('CD001', 32_769, 'latin1');
    expect(await mayHaveType(iso)).toBe(true);
    // Short text whose bytes at 148 spell its tar checksum: file-type types it tar (zeros past its end).
    const tarLike = Buffer.from('Order 5521 confirmed. '.repeat(10));
    let sum = 8 * 0x20;
    for (const [i, b] of tarLike.entries()) if (i < 148 || i >= 156) sum += b;
    tarLike.write(sum.toString(8).padStart(6, '0'), 148, 'latin1');
    expect(await fileTypeFromBuffer(tarLike)).toMatchObject({ ext: 'tar' });
    expect(await mayHaveType(tarLike)).toBe(true);
    for (const text of [
      'Dear colleagues, the meeting moves to Thursday afternoon. '.repeat(30),
      '<html><head><title>Invoice</title></head><body><p>Hello</p></body></html>',
      'Thanks, see you soon.',
    ]) {
      expect(await fileTypeFromBuffer(Buffer.from(text))).toBeUndefined();
      expect(await mayHaveType(Buffer.from(text)), text).toBe(false);
    }
  });

  it("rests on a review of file-type's guards that are not checks (re-review them when this fails)", () => {
    // Each line below was read in file-type's source: the byte-0 read in front of the swf check (the
    // probe's byte 0 reaches it), reads behind a check that must hold first, the tar checksum (only
    // behind its check of zeros: mayBeTarSum), the ISO 9660 probe (isoMarkIn), a length that always holds.
    const source = readFileSync(
      join(dirname(createRequire(import.meta.url).resolve('file-type')), 'index.js'),
      'utf8',
    );
    const reads = source
      .split('\n')
      .filter((l) => /this\.buffer\[|this\.buffer\.length|checkBytes\(|tarHeaderChecksumMatches\(/.test(l))
      .map((l) => l.trim());
    expect(reads).toEqual([
      'return checkBytes(this.buffer, header, options);',
      '(this.buffer[0] === 0x43 || this.buffer[0] === 0x46)',
      'if (checkBytes(type, [0x4F, 0x70, 0x75, 0x73, 0x48, 0x65, 0x61, 0x64])) {',
      'if (checkBytes(type, [0x80, 0x74, 0x68, 0x65, 0x6F, 0x72, 0x61])) {',
      'if (checkBytes(type, [0x01, 0x76, 0x69, 0x64, 0x65, 0x6F, 0x00])) {',
      'if (checkBytes(type, [0x7F, 0x46, 0x4C, 0x41, 0x43])) {',
      'if (checkBytes(type, [0x53, 0x70, 0x65, 0x65, 0x78, 0x20, 0x20])) {',
      'if (checkBytes(type, [0x01, 0x76, 0x6F, 0x72, 0x62, 0x69, 0x73])) {',
      '&& [0x3, 0x5, 0x7].includes(this.buffer[2])',
      '&& [0x4, 0x6, 0x8].includes(this.buffer[3])',
      '&& (this.buffer[6] === 0x0 || this.buffer[6] === 0x1)',
      '&& (this.buffer[8] & 0x60) !== 0x00 // Brand major, first character ASCII?',
      'if (this.check([0x04, 0x00, 0x00, 0x00]) && this.buffer.length >= 16) { // Rough & quick check Pickle/ASAR',
      'if (jsonSize > 12 && this.buffer.length >= jsonSize + 16) {',
      '|| (this.check([0, 0, 0, 0, 0, 0], {offset: 257}) && tarHeaderChecksumMatches(this.buffer))) {',
      "if (checkBytes(isoStandardIdentifier, stringToBytes('CD001'))) {",
      'if (this.buffer.length >= (4 + this.options.mpegOffsetTolerance)) {',
    ]);
  });
});
