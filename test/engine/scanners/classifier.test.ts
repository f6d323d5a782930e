import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  hashFeature,
  loadModel,
  MODEL_FORMAT,
  score,
  scoreHashed,
} from '../../../lambdas/engine/classifier/model.ts';
import {
  builtInModel,
  classifier,
  classifierSymbol,
  createClassifier,
  MIN_NOTE_WORDS,
} from '../../../lambdas/engine/scanners/classifier.ts';
import { SYMBOLS } from '../../../lambdas/engine/symbols.ts';
import { ctxFrom as ctx, fixture, inputFrom } from '../helpers.ts';

/** A model over 4096 buckets whose only weights are the given features'. */
function tinyModel(bad: Record<string, number>, phish: Record<string, number> = {}, bias = -2) {
  const head = (weights: Record<string, number>, b: number) => {
    const ints = new Int8Array(4096);
    for (const [f, w] of Object.entries(weights)) ints[hashFeature(f) & 4095] = w;
    return { bias: b, scale: 1, weights: Buffer.from(ints.buffer).toString('base64') };
  };
  return loadModel({
    format: MODEL_FORMAT,
    version: 1,
    buckets: 4096,
    heads: { bad: head(bad, bias), phish: head(phish, 0) },
    split: { name: 'hash70', trainPercent: 70 },
    trained: {},
    settings: {},
  });
}

describe('classifier model', () => {
  it('loads the model shipped in the repository, small and versioned', () => {
    const model = builtInModel();
    expect(model.file.version).toBe(1);
    expect(model.file.split.name).toBe('hash70');
    expect(model.bad.w.length).toBe(model.file.buckets);
    expect(JSON.stringify(model.file).length).toBeLessThan(3_000_000);
  });

  it('scores from the paired int8 table with exactly the float weights of the heads', () => {
    const model = builtInModel();
    for (let b = 0; b < model.file.buckets; b++) {
      if (Math.fround(model.pairs[2 * b]! * model.bad.scale) !== model.bad.w[b]) throw new Error(`bad ${b}`);
      if (Math.fround(model.pairs[2 * b + 1]! * model.phish.scale) !== model.phish.w[b])
        throw new Error(`phish ${b}`);
    }
  });

  it('scores as a sum over the float weights of the heads, in the order of the features', () => {
    const model = builtInModel();
    // The scoring as first written: the heads' Float32Arrays, a full sort for the strongest.
    const reference = (features: readonly string[]) => {
      const x = features.length ? 1 / Math.sqrt(features.length) : 0;
      let zBad = model.bad.bias;
      let zPhish = model.phish.bias;
      const contributions: [string, number][] = [];
      for (const f of features) {
        const b = hashFeature(f) & model.mask;
        zBad += model.bad.w[b]! * x;
        zPhish += model.phish.w[b]! * x;
        if (model.bad.w[b] !== 0) contributions.push([f, model.bad.w[b]! * x]);
      }
      const pBad = 1 / (1 + Math.exp(-zBad));
      const sign = pBad >= 0.5 ? 1 : -1;
      contributions.sort((a, b) => sign * (b[1] - a[1]) || (a[0] < b[0] ? -1 : 1));
      const top = contributions.slice(0, 6).map(([f, c]) => [f, Math.round(c * 1000) / 1000]);
      return { pBad, pPhish: 1 / (1 + Math.exp(-zPhish)), top };
    };
    const word = fc.constantFrom(
      'free',
      'viagra',
      'meeting',
      'invoice',
      'click here',
      'u:d:paypal.com',
      's:win',
    );
    fc.assert(
      fc.property(
        fc.uniqueArray(word, { maxLength: 7 }),
        fc.array(fc.string(), { maxLength: 30 }),
        (a, b) => {
          const features = [...new Set([...a, ...b])];
          const expected = reference(features);
          expect(score(model, features)).toEqual(expected);
          expect(
            scoreHashed(model, { hashes: features.map(hashFeature), name: (i) => features[i]! }),
          ).toEqual(expected);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('rejects files that are not a model of this version or size', () => {
    expect(() => loadModel({ format: 'other' })).toThrow('not a seg classifier model');
    const ok = tinyModel({}).file;
    expect(() => loadModel({ ...ok, version: 2 })).toThrow('version 2');
    expect(() => loadModel({ ...ok, buckets: 32 })).toThrow('32');
  });

  it('sums the weights of the features present and names those that moved it most', () => {
    const m = tinyModel({ winner: 100 });
    const s = score(m, ['winner', 'hello', 'there', 'friend']);
    // z = -2 + 100 / sqrt(4)
    expect(s.pBad).toBeCloseTo(1 / (1 + Math.exp(-48)), 10);
    expect(s.top[0]).toEqual(['winner', 50]);
  });
});

describe('classifierSymbol', () => {
  it('names the band the probability reaches and the class the phish head picks', () => {
    expect(classifierSymbol(0.9995, 0.1)).toBe('CLASSIFIER_SPAM_999');
    expect(classifierSymbol(0.991, 0.9)).toBe('CLASSIFIER_PHISH_99');
    expect(classifierSymbol(0.96, 0.2)).toBe('CLASSIFIER_SPAM_95');
    expect(classifierSymbol(0.85, 0.7)).toBe('CLASSIFIER_PHISH_80');
    expect(classifierSymbol(0.79, 0.7)).toBeUndefined();
    expect(classifierSymbol(0.005, 0)).toBe('CLASSIFIER_HAM');
    expect(classifierSymbol(0.0005, 0)).toBe('CLASSIFIER_HAM_999');
  });

  it('gives higher bands more weight', () => {
    expect(SYMBOLS.CLASSIFIER_SPAM_999.weight).toBeGreaterThan(SYMBOLS.CLASSIFIER_SPAM_99.weight);
    expect(SYMBOLS.CLASSIFIER_SPAM_99.weight).toBeGreaterThan(SYMBOLS.CLASSIFIER_SPAM_95.weight);
    expect(SYMBOLS.CLASSIFIER_SPAM_95.weight).toBeGreaterThan(SYMBOLS.CLASSIFIER_SPAM_80.weight);
    expect(SYMBOLS.CLASSIFIER_HAM_999.weight).toBeLessThan(SYMBOLS.CLASSIFIER_HAM.weight);
  });
});

describe('classifier scanner', () => {
  it('emits a band symbol with the probability and the tokens that moved it as evidence', async () => {
    const scanner = createClassifier(() => tinyModel({ refinance: 120, mortgage: 120 }, { refinance: -50 }));
    const findings = await scanner.scan(await inputFrom(fixture('spam-phrases.eml')), ctx());
    expect(findings).toHaveLength(1);
    expect(findings[0]?.symbol).toBe('CLASSIFIER_SPAM_999');
    expect(findings[0]?.evidence).toMatch(/^p=1\.0000 phish=0\.\d\d; "/);
    expect(findings[0]?.evidence).toContain('"refinance" +');
  });

  it('stays silent on a message the model finds unremarkable', async () => {
    const scanner = createClassifier(() => tinyModel({ refinance: 120 }));
    expect(await scanner.scan(await inputFrom(fixture('clean-plain.eml')), ctx())).toEqual([]);
  });

  it('with the shipped model, flags the spam fixture and not the plain letter', async () => {
    const spam = await classifier.scan(await inputFrom(fixture('spam-phrases.eml')), ctx());
    expect(spam[0]?.symbol).toMatch(/^CLASSIFIER_(SPAM|PHISH)_/);
    expect(await classifier.scan(await inputFrom(fixture('clean-plain.eml')), ctx())).toEqual([]);
  });
});

describe('classifier scanner on too little text', () => {
  it('abstains below MIN_FEATURES features, whatever the model says', async () => {
    const scanner = createClassifier(() => tinyModel({ 'x:no-subject': 127 }, {}, 5));
    expect(await scanner.scan(await inputFrom('From: a@example.org\r\n\r\n'), ctx())).toEqual([]);
  });

  const note = (body: string) =>
    `From: Alice <alice@example.org>\r\nTo: bob@example.com\r\nSubject: hello from a fresh clone\r\n\r\n${body}\r\n`;

  it(`abstains on a short note (under ${MIN_NOTE_WORDS} words, no link, no attachment), whatever the model says`, async () => {
    // A model whose prior calls everything spam, as a large learned bias does for a message with no evidence.
    const scanner = createClassifier(() => tinyModel({}, {}, 5));
    expect(await scanner.scan(await inputFrom(note('Just a clean message.')), ctx())).toEqual([]);
    expect(await classifier.scan(await inputFrom(note('Just a clean message.')), ctx())).toEqual([]);
  });

  it('still judges a short note with a link, and a note of MIN_NOTE_WORDS words', async () => {
    const scanner = createClassifier(() => tinyModel({}, {}, 5));
    const linked = await scanner.scan(
      await inputFrom(note('Just a clean message: https://example.net/x')),
      ctx(),
    );
    expect(linked[0]?.symbol).toMatch(/^CLASSIFIER_(SPAM|PHISH)_/);
    const words = Array.from({ length: MIN_NOTE_WORDS }, (_, i) => `word${i}`).join(' ');
    const long = await scanner.scan(await inputFrom(note(words)), ctx());
    expect(long[0]?.symbol).toMatch(/^CLASSIFIER_(SPAM|PHISH)_/);
  });

  it('abstains on a short note whose only link is in its signature or the list footer after it', async () => {
    const scanner = createClassifier(() => tinyModel({}, {}, 5));
    const signed = note(
      'Have you thought of bumping the version?\r\n\r\n-- \r\nJesse\r\nhttps://example.net/me\r\n\r\n' +
        '_______________________________________________\r\nDev mailing list\r\nhttps://lists.example.org/dev\r\n',
    );
    expect(await scanner.scan(await inputFrom(signed), ctx())).toEqual([]);
  });

  it('still judges a note with a link above its signature, or whose "signature" is the message', async () => {
    const scanner = createClassifier(() => tinyModel({}, {}, 5));
    const judged = async (body: string) =>
      (await scanner.scan(await inputFrom(note(body)), ctx()))[0]?.symbol;
    expect(await judged('See https://example.net/x\r\n-- \r\nJesse')).toMatch(/^CLASSIFIER_(SPAM|PHISH)_/);
    // The spammer's trick: an empty note, a separator, then the whole pitch.
    const pitch = Array.from({ length: MIN_NOTE_WORDS }, (_, i) => `pitch${i}`).join(' ');
    expect(await judged(`\r\n-- \r\n${pitch}`)).toMatch(/^CLASSIFIER_(SPAM|PHISH)_/);
    // A bare "--" sets off the body, not a signature: the link below it is the note's.
    expect(await judged('Hello\r\n--\r\nhttps://example.net/x')).toMatch(/^CLASSIFIER_(SPAM|PHISH)_/);
  });
});
