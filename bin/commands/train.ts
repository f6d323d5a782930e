// `seg train DIR... --out FILE`: trains the text classifier on the training part of labeled mail
// folders (DIR/<source>/{ham,spam,phish}/, see corpus-split.ts for which part) plus optional text-only
// corpora (--text DIR: files "Subject: ..." then the body, under .../ham/ and .../spam/), and writes the
// model file. Deterministic: files are read in sorted order, examples shuffled by a fixed-seed PRNG,
// weights quantised to int8, no timestamp in the output, so the same corpus gives the same bytes.
// `--explain` prints the strongest features of each class for a person to audit.
// Training code lives here, never in a Lambda bundle: the engine only loads and scores.

import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { EMBEDDED_DEFAULT_CONFIG, parseConfig } from '../../lambdas/config/load-config.ts';
import { messageFeatures, textFeatures } from '../../lambdas/engine/classifier/features.ts';
import {
  hashFeature,
  MODEL_FORMAT,
  MODEL_VERSION,
  type ModelFile,
  type ModelHead,
  sigmoid,
} from '../../lambdas/engine/classifier/model.ts';
import { parseMessage } from '../../lambdas/engine/parse.ts';
import { LABELS, type Label, labeledSources, listFiles, stripMboxLine } from './corpus-files.ts';
import { partOf, SPLITS, type SplitName, splitRecord } from './corpus-split.ts';

export const TRAIN_DEFAULTS = {
  buckets: 1 << 18,
  epochs: 20,
  learningRate: 10,
  l2: 1e-7,
  seed: 20_021,
  // Text-only examples (no links, no HTML, one company's ham) count for less than real mail.
  textWeight: 0.5,
  // Ham counts double: a false positive costs more than a missed spam.
  hamWeight: 2,
  // See dropSingleCollectionFeatures.
  minCollectionRatio: 0.05,
  // Each step leaves out this share of the message's features at random (the rest scaled up to the same
  // expected sum), so no few familiar words can carry a class: mail from a collection the model never
  // saw is judged on more of its words. Chosen on the tuning split and on whole collections left out
  // of training (docs/detection.md).
  dropout: 0.3,
} as const;

export interface Example {
  buckets: Uint32Array;
  readonly label: Label;
  readonly weight: number;
  /** The collection it came from (the first folder of its source name, or the text corpus). */
  readonly group: string;
}

export interface TrainOptions {
  readonly out?: string;
  readonly text?: string[];
  readonly split?: SplitName;
  readonly explain?: boolean | number;
  readonly quiet?: boolean;
}

/** mulberry32: a tiny seeded PRNG, so the shuffle (and the model) is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Hashes feature strings to distinct buckets; records a name per bucket when asked (for --explain). */
function toBuckets(
  features: Iterable<string>,
  mask: number,
  names?: Map<number, Map<string, number>>,
): Uint32Array {
  const set = new Set<number>();
  for (const f of features) {
    const b = hashFeature(f) & mask;
    set.add(b);
    if (names) {
      const m = names.get(b) ?? new Map<string, number>();
      names.set(b, m);
      m.set(f, (m.get(f) ?? 0) + 1);
    }
  }
  return Uint32Array.from([...set].sort((a, b) => a - b));
}

interface Collected {
  examples: Example[];
  counts: Record<string, number>;
  names?: Map<number, Map<string, number>>;
}

// The text corpus spaces out punctuation ("http : / / www . foo . com / x"), so its links would read
// as the words "http", "www", "com" that mail never yields (links in mail are features of their own).
const SPACED_LINK = /\b(?:https? : \/ \/ |www \. )\S+(?: [./?=&:~_%-]+ \S+)*/g;
export const unspaceLinks = (text: string): string => text.replace(SPACED_LINK, ' ');

/**
 * Keeps only features that at least two collections use at comparable rates, when there are two or
 * more collections: a token one collection uses far more than any other ("enron", its staff's first
 * names, a list's name, a honeypot's tag) says where a message was collected, not what it is.
 * Comparable: the second-highest per-collection document rate is at least `minRatio` of the highest
 * (and at least two documents).
 */
export function dropSingleCollectionFeatures(
  examples: Example[],
  minRatio: number = TRAIN_DEFAULTS.minCollectionRatio,
): { kept: number; dropped: number } {
  const groups = [...new Set(examples.map((e) => e.group))].sort();
  if (groups.length < 2) return { kept: -1, dropped: 0 };
  const sizes = groups.map((g) => examples.filter((e) => e.group === g).length);
  const docs = groups.map(() => new Map<number, number>());
  for (const e of examples) {
    const m = docs[groups.indexOf(e.group)]!;
    for (const b of e.buckets) m.set(b, (m.get(b) ?? 0) + 1);
  }
  const keep = new Set<number>();
  const all = new Set<number>();
  for (const m of docs) for (const b of m.keys()) all.add(b);
  for (const b of all) {
    let first = 0;
    let second = 0;
    for (const [g, m] of docs.entries()) {
      const n = m.get(b) ?? 0;
      const rate = n >= 2 ? n / sizes[g]! : 0;
      if (rate > first) [first, second] = [rate, first];
      else if (rate > second) second = rate;
    }
    if (second > 0 && second >= minRatio * first) keep.add(b);
  }
  for (const e of examples) e.buckets = e.buckets.filter((b) => keep.has(b));
  return { kept: keep.size, dropped: all.size - keep.size };
}

/** Reads the training part of every labeled source under `dirs`, and the text corpora. */
export async function collectExamples(
  dirs: readonly string[],
  textDirs: readonly string[],
  split: SplitName,
  opts: { buckets?: number; names?: boolean; log?: (line: string) => void } = {},
): Promise<Collected> {
  const mask = (opts.buckets ?? TRAIN_DEFAULTS.buckets) - 1;
  const names = opts.names ? new Map<number, Map<string, number>>() : undefined;
  const limits = parseConfig(EMBEDDED_DEFAULT_CONFIG).limits;
  const examples: Example[] = [];
  const counts: Record<string, number> = {};
  const count = (key: string) => {
    counts[key] = (counts[key] ?? 0) + 1;
  };
  for (const dir of dirs) {
    for (const source of await labeledSources(dir)) {
      for (const label of LABELS) {
        const path = source.dirs[label];
        if (!path) continue;
        let kept = 0;
        for (const file of await listFiles(path)) {
          const bytes = await readFile(file);
          if (partOf(split, file, label, bytes) !== 'train') continue;
          const parsed = await parseMessage(stripMboxLine(bytes), limits);
          const weight = label === 'ham' ? TRAIN_DEFAULTS.hamWeight : 1;
          const group = source.name.split(/[\\/]/)[0]!;
          examples.push({ buckets: toBuckets(messageFeatures(parsed), mask, names), label, weight, group });
          count(label);
          kept++;
        }
        opts.log?.(`${source.name}/${label}: ${kept} training messages`);
      }
    }
  }
  for (const dir of textDirs) {
    for (const file of await listFiles(dir)) {
      const label = file.split(/[\\/]/).find((p): p is Label => p === 'ham' || p === 'spam');
      if (!label) continue;
      const text = unspaceLinks(await readFile(file, 'utf8'));
      const nl = text.indexOf('\n');
      const first = nl < 0 ? text : text.slice(0, nl);
      const subject = first.replace(/^subject:\s*/i, '');
      const body = nl < 0 ? '' : text.slice(nl + 1);
      const weight = TRAIN_DEFAULTS.textWeight * (label === 'ham' ? TRAIN_DEFAULTS.hamWeight : 1);
      const group = basename(dir);
      examples.push({ buckets: toBuckets(textFeatures(subject, body), mask, names), label, weight, group });
      count(`text-${label}`);
    }
    opts.log?.(`${basename(dir)}: text examples read`);
  }
  return names ? { examples, counts, names } : { examples, counts };
}

/** One logistic-regression head by SGD with L2 (scaled-weight trick, so each step costs only the message's features). */
function sgd(
  examples: readonly Example[],
  target: (e: Example) => 0 | 1 | undefined,
  buckets: number,
  seed: number,
): { w: Float64Array; bias: number } {
  const { epochs, learningRate, l2, dropout } = TRAIN_DEFAULTS;
  const keepScale = 1 / (1 - dropout);
  const w = new Float64Array(buckets);
  let scale = 1;
  let bias = 0;
  const idx = examples.map((_, i) => i).filter((i) => target(examples[i]!) !== undefined);
  const random = prng(seed);
  let t = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    for (const i of idx) {
      const e = examples[i]!;
      const y = target(e)!;
      const kept = dropout > 0 ? e.buckets.filter(() => random() >= dropout) : e.buckets;
      const x = e.buckets.length ? keepScale / Math.sqrt(e.buckets.length) : 0;
      let z = bias;
      for (const b of kept) z += w[b]! * scale * x;
      const eta = learningRate / (1 + t / idx.length);
      const g = (y - sigmoid(z)) * e.weight;
      scale *= 1 - eta * l2;
      const step = (eta * g * x) / scale;
      for (const b of kept) w[b] = w[b]! + step;
      bias += eta * g * 0.1;
      t++;
      if (scale < 1e-6) {
        for (let k = 0; k < buckets; k++) w[k] = w[k]! * scale;
        scale = 1;
      }
    }
  }
  for (let k = 0; k < buckets; k++) w[k] = w[k]! * scale;
  return { w, bias };
}

/** int8 quantisation: the largest weight maps to 127. */
function quantise(w: Float64Array, bias: number): ModelHead {
  let max = 0;
  for (const v of w) max = Math.max(max, Math.abs(v));
  const scale = max > 0 ? max / 127 : 1;
  const ints = new Int8Array(w.length);
  for (let k = 0; k < w.length; k++) ints[k] = Math.round(w[k]! / scale);
  return {
    bias: Math.round(bias * 1e6) / 1e6,
    scale: Number(scale.toPrecision(8)),
    weights: Buffer.from(ints.buffer).toString('base64'),
  };
}

export interface Trained {
  readonly model: ModelFile;
  readonly bad: Float64Array;
  readonly phish: Float64Array;
}

/** Trains both heads on collected examples. Pure given its input. */
export function trainModel(
  collected: Collected,
  split: SplitName,
  buckets = TRAIN_DEFAULTS.buckets,
): Trained {
  const { examples, counts } = collected;
  const bad = sgd(examples, (e) => (e.label === 'ham' ? 0 : 1), buckets, TRAIN_DEFAULTS.seed);
  const phish = sgd(
    examples,
    (e) => (e.label === 'phish' ? 1 : e.label === 'spam' ? 0 : undefined),
    buckets,
    TRAIN_DEFAULTS.seed + 1,
  );
  const sorted: Record<string, number> = {};
  for (const k of Object.keys(counts).sort()) sorted[k] = counts[k]!;
  const model: ModelFile = {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    buckets,
    heads: { bad: quantise(bad.w, bad.bias), phish: quantise(phish.w, phish.bias) },
    split: splitRecord(split),
    trained: sorted,
    settings: { ...TRAIN_DEFAULTS, buckets },
  };
  return { model, bad: bad.w, phish: phish.w };
}

/** The model file's bytes: stable key order, one head per line (a readable diff), indented as biome keeps it. */
export function serialiseModel(model: ModelFile): string {
  return `${JSON.stringify(model, null, 2)}\n`;
}

/** The strongest features of a head, by weight, named by the feature seen most often in their bucket. */
export function strongest(
  w: Float64Array,
  names: Map<number, Map<string, number>>,
  sign: 1 | -1,
  n: number,
): { feature: string; weight: number; also: number }[] {
  const order = [...names.keys()].sort((a, b) => sign * (w[b]! - w[a]!) || a - b);
  return order.slice(0, n).map((b) => {
    const m = [...names.get(b)!.entries()].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1));
    return { feature: m[0]![0], weight: Math.round(w[b]! * 100) / 100, also: m.length - 1 };
  });
}

export async function trainCommand(dirs: string[], opts: TrainOptions): Promise<number> {
  const split = opts.split ?? 'hash70';
  if (!SPLITS.includes(split)) {
    process.stderr.write(`seg train: unknown split ${split} (${SPLITS.join(', ')})\n`);
    return 1;
  }
  if (!dirs.length && !opts.text?.length) {
    process.stderr.write('seg train: give at least one labeled folder\n');
    return 1;
  }
  const log = opts.quiet ? undefined : (line: string) => process.stderr.write(`${line}\n`);
  const collected = await collectExamples(dirs, opts.text ?? [], split, {
    names: Boolean(opts.explain),
    ...(log ? { log } : {}),
  });
  if (
    !collected.examples.some((e) => e.label === 'ham') ||
    !collected.examples.some((e) => e.label !== 'ham')
  ) {
    process.stderr.write('seg train: need both ham and spam/phish training messages\n');
    return 1;
  }
  const filtered = dropSingleCollectionFeatures(collected.examples);
  log?.(
    `features in two or more collections: ${filtered.kept}; dropped as single-collection: ${filtered.dropped}`,
  );
  const trained = trainModel(collected, split);
  if (opts.out) {
    await writeFile(opts.out, serialiseModel(trained.model));
    log?.(`wrote ${opts.out}: ${JSON.stringify(trained.model.trained)}`);
  }
  if (opts.explain && collected.names) {
    const n = typeof opts.explain === 'number' ? opts.explain : 30;
    const show = (title: string, rows: { feature: string; weight: number; also: number }[]) => {
      process.stdout.write(`\n${title}\n`);
      for (const r of rows)
        process.stdout.write(
          `  ${r.weight.toFixed(2).padStart(7)}  ${r.feature}${r.also ? `  (+${r.also} more in bucket)` : ''}\n`,
        );
    };
    show(
      'strongest spam-or-phish features (head "bad", positive)',
      strongest(trained.bad, collected.names, 1, n),
    );
    show('strongest ham features (head "bad", negative)', strongest(trained.bad, collected.names, -1, n));
    show(
      'strongest phish features (head "phish", positive)',
      strongest(trained.phish, collected.names, 1, n),
    );
    show(
      'strongest spam-not-phish features (head "phish", negative)',
      strongest(trained.phish, collected.names, -1, n),
    );
  }
  return 0;
}
