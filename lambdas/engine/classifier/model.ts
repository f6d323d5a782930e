// The classifier model: two logistic-regression heads over hashed features. "bad" says spam-or-phish
// versus ham; "phish" says phish versus spam among the bad. Weights are int8, one byte per hash
// bucket, base64 in a small JSON file, decoded once per process. Scoring is a sum of the weights of
// the message's features, so it is cheap and every point of the result can be traced to a token.

export const MODEL_FORMAT = 'seg-classifier';
export const MODEL_VERSION = 1;

export interface ModelHead {
  readonly bias: number;
  /** Weight = int8 value * scale. */
  readonly scale: number;
  /** base64 of one int8 per bucket. */
  readonly weights: string;
}

export interface ModelFile {
  readonly format: typeof MODEL_FORMAT;
  readonly version: number;
  /** Number of hash buckets, a power of two. */
  readonly buckets: number;
  /** Features are weighted 1/sqrt(n) (n = distinct features) so long messages do not shout. */
  readonly heads: { readonly bad: ModelHead; readonly phish: ModelHead };
  /** How the training corpus was split (see bin/commands/corpus-split.ts); eval holds back the rest. */
  readonly split: { readonly name: string; readonly trainPercent: number; readonly phishTimeCut?: number };
  /** Messages per class the model learned from, for the record. */
  readonly trained: Readonly<Record<string, number>>;
  /** Training settings, for the record. */
  readonly settings: Readonly<Record<string, number | string>>;
}

/** A decoded head: float weights per bucket. */
export interface Head {
  readonly bias: number;
  readonly scale: number;
  readonly w: Float32Array;
}

export interface Model {
  readonly file: ModelFile;
  readonly mask: number;
  readonly bad: Head;
  readonly phish: Head;
  /**
   * Both heads' int8 weights side by side (bucket b at 2b and 2b + 1): scoring reads one place per
   * feature, and the table is a quarter of the floats' size, so more of it stays in cache.
   */
  readonly pairs: Int8Array;
}

/** FNV-1a's starting state. */
export const FNV_START = 0x811c9dc5;

/**
 * FNV-1a's state after `s`, from state `h`: hashing "a b" is hashing " b" on from "a"'s state, so a
 * bigram's hash follows from its first word's without the joined string being read.
 */
export function fnvOn(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h;
}

/** FNV-1a over UTF-16 code units: fast, stable across runtimes, good enough spread for hashing tricks. */
export function hashFeature(s: string): number {
  return fnvOn(FNV_START, s) >>> 0;
}

function headInts(head: ModelHead, buckets: number): Int8Array {
  const bytes = Buffer.from(head.weights, 'base64');
  if (bytes.length !== buckets)
    throw new Error(`model head has ${bytes.length} weights, expected ${buckets}`);
  return new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

function decodeHead(head: ModelHead, ints: Int8Array): Head {
  const w = new Float32Array(ints.length);
  for (let i = 0; i < ints.length; i++) w[i] = ints[i]! * head.scale;
  return { bias: head.bias, scale: head.scale, w };
}

/** Checks and decodes a model file. Throws with a clear message on anything else. */
export function loadModel(file: unknown): Model {
  const f = file as ModelFile;
  if (!f || f.format !== MODEL_FORMAT) throw new Error('not a seg classifier model');
  if (f.version !== MODEL_VERSION)
    throw new Error(`classifier model version ${f.version}, expected ${MODEL_VERSION}`);
  if (!Number.isInteger(Math.log2(f.buckets))) throw new Error('model buckets must be a power of two');
  const bad = headInts(f.heads.bad, f.buckets);
  const phish = headInts(f.heads.phish, f.buckets);
  const pairs = new Int8Array(2 * f.buckets);
  for (let i = 0; i < f.buckets; i++) {
    pairs[2 * i] = bad[i]!;
    pairs[2 * i + 1] = phish[i]!;
  }
  return {
    file: f,
    mask: f.buckets - 1,
    bad: decodeHead(f.heads.bad, bad),
    phish: decodeHead(f.heads.phish, phish),
    pairs,
  };
}

export const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

export interface Score {
  /** Probability the message is spam or phish. */
  readonly pBad: number;
  /** Probability it is phish, given it is bad. */
  readonly pPhish: number;
  /** The features that moved "bad" most, with their signed contribution, strongest first. */
  readonly top: readonly (readonly [feature: string, contribution: number])[];
}

/** Features as scoring reads them: each one's hashFeature, and its name when asked. */
export interface HashedFeatures {
  readonly hashes: readonly number[];
  name(i: number): string;
}

/** Whether contribution `a` goes before `b` toward the verdict's side `sign` (ties by name). */
function strongerThan(a: readonly [string, number], b: readonly [string, number], sign: number): boolean {
  return sign * (b[1] - a[1]) < 0 || (sign * (b[1] - a[1]) === 0 && a[0] < b[0]);
}

/** Scores a message's features. `topN` features that pushed hardest toward the verdict are kept. */
export function score(model: Model, features: readonly string[], topN = 6): Score {
  return scoreHashed(model, { hashes: features.map(hashFeature), name: (i) => features[i]! }, topN);
}

/** `score` of features given by their hashes. */
export function scoreHashed(model: Model, features: HashedFeatures, topN = 6): Score {
  const featureHashes = features.hashes;
  const n = featureHashes.length;
  const x = n ? 1 / Math.sqrt(n) : 0;
  let zBad = model.bad.bias;
  let zPhish = model.phish.bias;
  const { pairs, mask } = model;
  const badScale = model.bad.scale;
  const phishScale = model.phish.scale;
  // Each feature's "bad" weight, as the head's Float32Array holds it (fround: the same rounding).
  const badWeights = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const at = 2 * (featureHashes[i]! & mask);
    const wb = Math.fround(pairs[at]! * badScale);
    badWeights[i] = wb;
    zBad += wb * x;
    zPhish += Math.fround(pairs[at + 1]! * phishScale) * x;
  }
  const pBad = sigmoid(zBad);
  const sign = pBad >= 0.5 ? 1 : -1;
  // The strongest contributions toward the verdict (ties by name): a small sorted list, not a full sort.
  const top: [string, number][] = [];
  for (let i = 0; i < n; i++) {
    const wb = badWeights[i]!;
    if (wb === 0) continue;
    const contribution = wb * x;
    // Most features do not make a full list: told apart before a pair is made for them.
    const worst = top.length === topN ? top[topN - 1]! : undefined;
    if (worst) {
      const d = sign * (worst[1] - contribution);
      if (!(d < 0 || (d === 0 && features.name(i) < worst[0]))) continue;
    }
    const c: [string, number] = [features.name(i), contribution];
    let at = top.length;
    while (at > 0 && strongerThan(c, top[at - 1]!, sign)) at--;
    top.splice(at, 0, c);
    if (top.length > topN) top.pop();
  }
  return {
    pBad,
    pPhish: sigmoid(zPhish),
    top: top.map(([f, c]) => [f, Math.round(c * 1000) / 1000] as const),
  };
}
