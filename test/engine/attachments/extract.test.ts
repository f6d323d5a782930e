import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AttachmentLimitsSchema } from '../../../lambdas/config/schema.ts';
import { extractFiles } from '../../../lambdas/engine/attachments/extract.ts';
import { DEFAULT_LIMITS } from '../../../lambdas/engine/parse.ts';
import { buildZip, eicar, mailWith } from '../../support/zip.ts';

const LIMITS = AttachmentLimitsSchema.parse({});
const extract = (raw: Buffer, over: Partial<typeof LIMITS> = {}) =>
  extractFiles(raw, { ...LIMITS, ...over }, DEFAULT_LIMITS);
const hasEicar = (bytes: Uint8Array): boolean => Buffer.from(bytes).includes(eicar());

describe('extractFiles', () => {
  it('returns each attachment with its name, declared type, true type and sha256', async () => {
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
    const x = await extract(mailWith([{ name: 'report.pdf', type: 'application/pdf', data: pdf }]));
    expect(x.files).toHaveLength(1);
    expect(x.files[0]).toMatchObject({
      name: 'report.pdf',
      path: [],
      declaredType: 'application/pdf',
      detected: { ext: 'pdf' },
      source: 'mime',
      sha256: createHash('sha256').update(pdf).digest('hex'),
    });
    expect(x.truncated).toBe(false);
  });

  it('lists zip members with their path inside the archives, recursively', async () => {
    const inner = buildZip([{ name: 'eicar.com', data: eicar() }]);
    const outer = buildZip([{ name: 'inner.zip', data: inner }]);
    const x = await extract(mailWith([{ name: 'invoice.zip', data: outer }]));
    const member = x.files.find((f) => f.name === 'eicar.com');
    expect(member?.path).toEqual(['invoice.zip', 'inner.zip']);
    expect(member?.source).toBe('archive');
    expect(hasEicar(member?.bytes ?? new Uint8Array())).toBe(true);
    expect(x.listings.map((l) => l.path)).toEqual([['invoice.zip'], ['invoice.zip', 'inner.zip']]);
  });

  it('finds a uuencoded zip that mailparser leaves encoded, as a lenient file', async () => {
    const zip = buildZip([{ name: 'eicar.com', data: eicar() }]);
    const lines = [`begin 644 eicar.zip`];
    for (let i = 0; i < zip.length; i += 45) {
      const chunk = zip.subarray(i, i + 45);
      let line = String.fromCharCode(32 + chunk.length);
      for (let k = 0; k < chunk.length; k += 3) {
        const [a = 0, b = 0, c = 0] = chunk.subarray(k, k + 3);
        line += [a >> 2, ((a & 3) << 4) | (b >> 4), ((b & 15) << 2) | (c >> 6), c & 63]
          .map((v) => String.fromCharCode(v === 0 ? 96 : 32 + v))
          .join('');
      }
      lines.push(line);
    }
    lines.push('`', 'end');
    const raw = mailWith([{ name: 'eicar.zip', data: Buffer.from(lines.join('\r\n')), encoding: 'x-uue' }]);
    const x = await extract(raw);
    const found = x.files.find((f) => f.detected?.ext === 'zip');
    expect(found?.source).toBe('lenient');
    expect(x.files.some((f) => hasEicar(f.bytes))).toBe(true);
  });

  it('drops duplicates by sha256', async () => {
    const data = Buffer.from('%PDF-1.4\n%%EOF\n');
    const x = await extract(
      mailWith([
        { name: 'a.pdf', data },
        { name: 'b.pdf', data },
      ]),
    );
    expect(x.files.map((f) => f.name)).toEqual(['a.pdf']);
  });

  it('stops at maxFiles and says so', async () => {
    const zip = buildZip(
      Array.from({ length: 20 }, (_, i) => ({ name: `f${i}.txt`, data: Buffer.from(`file ${i}`) })),
    );
    const x = await extract(mailWith([{ name: 'many.zip', data: zip }]), { maxFiles: 5 });
    expect(x.files).toHaveLength(5);
    expect(x.truncated).toBe(true);
    expect(x.problems.map((p) => p.kind)).toContain('files');
  });
});

// The upstream project's rule: what any mail client would decode must be found. Four of the 372
// (the BinHex ones) carry no EICAR at all: the generator wrote "ARRAY(0x...)" as their payload.
const HIDE_CONTENT = resolve(
  process.env['SEG_CORPUS'] ?? resolve(import.meta.dirname, '../../../../shared/corpus'),
  'peer/mime-is-broken/hide-content.d/new',
);

describe.skipIf(!existsSync(HIDE_CONTENT))('extractFiles on mime-is-broken hide-content.d', () => {
  it('recovers the EICAR payload from at least 363 of the 372 messages', async () => {
    const names = readdirSync(HIDE_CONTENT);
    let recovered = 0;
    for (const name of names) {
      const x = await extract(readFileSync(join(HIDE_CONTENT, name)));
      if (x.files.some((f) => hasEicar(f.bytes))) recovered++;
    }
    console.log(`hide-content.d: EICAR recovered from ${recovered} of ${names.length} messages`);
    expect(names).toHaveLength(372);
    expect(recovered).toBeGreaterThanOrEqual(363);
  }, 120_000);
});
