// arcChain() reads the ARC sets as mailauth's getARChain() does, on random ARC fields: whole chains
// and broken ones (a set missing a field or repeating one, instances out of sequence, odd cv=, a=,
// c= and h= values, tag lists with quotes or comments).

import fc from 'fast-check';
import { getARChain } from 'mailauth/lib/arc/index.js';
import { describe, expect, it } from 'vitest';
import { arcChain } from '../../lambdas/engine/arc-chain.ts';
import { parseHeaderBlock } from '../../lambdas/engine/mail-auth.ts';

const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 4 });
const field = fc.record({
  name: fc.constantFrom('ARC-Seal', 'ARC-Message-Signature', 'ARC-Authentication-Results', 'arc-seal'),
  i: fc.constantFrom('1', '2', '3', '1', '2', '0', 'x', '', ' 2'),
  cv: maybe(fc.constantFrom('none', 'pass', 'fail', 'None', 'PASS', '')),
  a: maybe(fc.constantFrom('rsa-sha256', 'rsa-sha256', 'rsa-sha1', 'ed25519-sha256', '', 'rsa')),
  c: maybe(fc.constantFrom('relaxed/relaxed', 'simple/simple', 'Relaxed/Relaxed ')),
  h: maybe(fc.constantFrom('from:to', 'From : ARC-Seal', 'from::subject', '')),
  extra: fc.constantFrom(
    '',
    ' d=example.net; s=arc;',
    ' (comment; x=1)',
    ' x="q;y"',
    ' mx.example.net; spf=pass',
  ),
});
const line = (f: {
  name: string;
  i: string;
  cv?: string | undefined;
  a?: string | undefined;
  c?: string | undefined;
  h?: string | undefined;
  extra: string;
}) =>
  `${f.name}: i=${f.i};${f.cv !== undefined ? ` cv=${f.cv};` : ''}${f.a !== undefined ? ` a=${f.a};` : ''}` +
  `${f.c !== undefined ? ` c=${f.c};` : ''}${f.h !== undefined ? ` h=${f.h};` : ''}${f.extra}\r\n b=YWJj\r\n\tZGVm; bh=x`;

// A chain of n sets whose tags are mostly what a sealer writes, now and then not (a cv= out of turn, an
// odd a=, a c= or h= on the seal, arc-seal signed by the message signature), shuffled, with a field
// dropped, or random fields thrown in.
const usual = <T>(value: T, ...odd: T[]) =>
  fc.oneof({ weight: 8, arbitrary: fc.constant(value) }, fc.constantFrom(...odd));
const set = fc.record({
  sealA: usual<string | undefined>(
    'rsa-sha256',
    'ed25519-sha256',
    'rsa-sha1',
    '',
    undefined,
    'rsa',
    'dsa-sha256',
  ),
  sealC: usual<string | undefined>(undefined, 'relaxed/relaxed', 'Relaxed/Relaxed ', 'simple/simple'),
  sealH: usual<string | undefined>(undefined, 'from', ''),
  signatureA: usual<string | undefined>('rsa-sha256', 'rsa-sha1', undefined, 'x-y-z'),
  signatureC: usual<string | undefined>('relaxed/relaxed', undefined, 'simple/relaxed'),
  signatureH: usual<string | undefined>('from:to', ' From : ARC-Seal ', 'from::subject', ''),
  cvOdd: usual<string | undefined>(undefined, 'fail', 'none', 'pass', 'PASS', 'None', ''),
});
const tags = (pairs: [string, string | undefined][]) =>
  pairs.flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`])).join('; ');
const wholeChain = fc.array(set, { minLength: 1, maxLength: 3 }).map((sets) =>
  sets.flatMap((t, k) => [
    `ARC-Seal: ${tags([
      ['i', `${k + 1}`],
      ['a', t.sealA],
      ['cv', t.cvOdd ?? (k ? 'pass' : 'none')],
      ['c', t.sealC],
      ['h', t.sealH],
      ['d', 'example.net'],
      ['b', 'YWJj\r\n ZGVm'],
    ])}`,
    `ARC-Message-Signature: ${tags([
      ['i', `${k + 1}`],
      ['a', t.signatureA],
      ['c', t.signatureC],
      ['h', t.signatureH],
      ['bh', 'x'],
      ['b', 'YWJj'],
    ])}`,
    `ARC-Authentication-Results: i=${k + 1}; mx.example.net; dkim=pass (good) header.d=example.net; spf=pass`,
  ]),
);
const block = fc
  .tuple(
    wholeChain,
    fc.array(field.map(line), { maxLength: 3 }),
    fc.constantFrom('whole', 'whole', 'dropped', 'mixed'),
  )
  .chain(([chain, extra, how]) =>
    how === 'whole'
      ? fc.shuffledSubarray(chain, { minLength: chain.length })
      : how === 'dropped'
        ? fc.shuffledSubarray(chain, { minLength: chain.length - 1 })
        : fc.shuffledSubarray([...chain, ...extra]),
  )
  .map((rows) => Buffer.from(`From: a@example.org\r\n${rows.join('\r\n')}\r\nTo: b@example.com\r\n\r\n`));

/** The chain, or the error's message and code; numbers kept apart from strings. */
const outcome = (read: () => unknown) => {
  try {
    return JSON.stringify(read(), (_k, v) => (typeof v === 'number' ? `n:${String(v)}` : v));
  } catch (err) {
    return `${(err as Error).message} ${(err as { code?: string }).code}`;
  }
};

describe('arcChain', () => {
  it("gives mailauth getARChain()'s sets, or its error, for any ARC fields", () => {
    fc.assert(
      fc.property(block, (b) => {
        const headers = parseHeaderBlock(b);
        expect(outcome(() => arcChain(headers.parsed))).toBe(outcome(() => getARChain(headers)));
      }),
      { numRuns: 3000 },
    );
  });

  it('reads a whole chain in instance order, and none from a message without ARC fields', () => {
    const chain = arcChain(
      parseHeaderBlock(
        Buffer.from(
          'ARC-Seal: i=2; a=rsa-sha256; cv=pass; b=x\r\nARC-Message-Signature: i=2; a=rsa-sha256; b=x\r\n' +
            'ARC-Authentication-Results: i=2; mx.example.net\r\nARC-Seal: i=1; a=rsa-sha256; cv=none; b=x\r\n' +
            'ARC-Message-Signature: i=1; a=rsa-sha256; b=x\r\nARC-Authentication-Results: i=1; mx\r\n\r\n',
        ),
      ).parsed,
    );
    if (!chain) throw new Error('no chain');
    expect(chain.map((set) => set.i)).toEqual([1, 2]);
    expect(chain[0]!['arc-message-signature']!.parsed.c).toEqual({ value: 'relaxed/relaxed' });
    expect(arcChain(parseHeaderBlock(Buffer.from('From: a@example.org\r\n\r\n')).parsed)).toBe(false);
  });
});
