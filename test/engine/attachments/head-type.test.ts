import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { fileTypeFromBuffer } from 'file-type';
import { describe, expect, it } from 'vitest';
import { headBytesFor, mayBeFile } from '../../../lambdas/engine/attachments/head-type.ts';
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
