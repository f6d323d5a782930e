// `seg eval DIR...`: measures detection on labeled folders laid out as DIR/{ham,spam,phish}/ or
// DIR/<source>/{ham,spam,phish}/ (any depth below each label). Prints a row per source and the total:
// catch rates, the ham false-positive rate, a label x action matrix and throughput. Offline DNS, so
// figures are reproducible. It never opens links in the messages. With --exclude-trained it skips
// every message in the training part of the split the classifier model records (corpus-split.ts).

import { readFile, writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { loadModel, type Model } from '../../lambdas/engine/classifier/model.ts';
import { offlineResolver } from '../../lambdas/engine/scan-message.ts';
import { builtInModel, createClassifier } from '../../lambdas/engine/scanners/classifier.ts';
import { ALL_SCANNERS } from '../../lambdas/engine/scanners/index.ts';
import { ACTIONS, type Action } from '../../lambdas/engine/types.ts';
import { LABELS, type Label, labeledSources, listFiles, loadCorpusConfig, scanFile } from './corpus-files.ts';
import { partOf, SPLITS, type SplitName } from './corpus-split.ts';
import { withResultsOnStdout } from './stdout.ts';

export { LABELS, type Label };

type Counts = Record<Action, number>;
const emptyCounts = (): Counts => ({ deliver: 0, tag: 0, quarantine: 0, reject: 0 });
const flaggedOf = (c: Counts): number => c.tag + c.quarantine + c.reject;
const pct = (num: number, den: number): number => (den ? Math.round((num / den) * 10_000) / 100 : 0);

/** A one-line progress bar on stderr, drawn only for a person watching a terminal. */
function progress(total: number): { tick(done: number, started: number): void; end(): void } {
  if (!process.stderr.isTTY || total === 0) return { tick() {}, end() {} };
  let last = 0;
  return {
    tick(done, started) {
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      const width = 30;
      const filled = Math.round((done / total) * width);
      const rate = done / Math.max(0.001, (now - started) / 1000);
      process.stderr.write(
        `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${rate.toFixed(0)} msg/s`,
      );
    },
    end() {
      process.stderr.write('\n');
    },
  };
}

/** Detection figures for one set of messages (a source, or all of them). */
function figures(matrix: Record<Label, Counts>) {
  const n = (l: Label) => ACTIONS.reduce((s, a) => s + matrix[l][a], 0);
  return {
    ham: {
      n: n('ham'),
      flagged: flaggedOf(matrix.ham),
      fpRate: pct(flaggedOf(matrix.ham), n('ham')),
      actions: matrix.ham,
    },
    spam: {
      n: n('spam'),
      caught: flaggedOf(matrix.spam),
      rate: pct(flaggedOf(matrix.spam), n('spam')),
      actions: matrix.spam,
    },
    phish: {
      n: n('phish'),
      caught: flaggedOf(matrix.phish),
      rate: pct(flaggedOf(matrix.phish), n('phish')),
      actions: matrix.phish,
    },
  };
}

const emptyMatrix = (): Record<Label, Counts> => ({
  ham: emptyCounts(),
  spam: emptyCounts(),
  phish: emptyCounts(),
});

export interface EvalOptions {
  json?: boolean;
  config?: string;
  limit?: number;
  /** Skip the messages the classifier model was trained on. */
  excludeTrained?: boolean;
  /** A model file to score with instead of the built-in one. */
  model?: string;
  /** Write one line per message (source, label, file, action, score, symbols) to this file (.gz: gzipped). */
  verdicts?: string;
}

/** Runs the engine over labeled folders and prints detection figures per source and in total. Returns the exit code. (stdout carries nothing else). */
export function evalCommand(dirs: string | string[], opts: EvalOptions): Promise<number> {
  return withResultsOnStdout(() => evalCommandUnguarded(dirs, opts));
}

/** The command itself, writing its results to stdout. */
async function evalCommandUnguarded(dirs: string | string[], opts: EvalOptions): Promise<number> {
  const config = loadCorpusConfig(opts.config);
  if (!config) return 1;
  let model: Model;
  try {
    model = opts.model ? loadModel(JSON.parse(await readFile(opts.model, 'utf8'))) : builtInModel();
  } catch (err) {
    process.stderr.write(`seg eval: ${opts.model}: ${(err as Error).message}\n`);
    return 1;
  }
  const scanners = opts.model
    ? ALL_SCANNERS.map((s) => (s.name === 'classifier' ? createClassifier(() => model) : s))
    : undefined;
  const split = model.file.split.name as SplitName;
  if (opts.excludeTrained && !SPLITS.includes(split)) {
    process.stderr.write(`seg eval: the model records an unknown split "${split}"\n`);
    return 1;
  }

  const files: { source: string; label: Label; file: string }[] = [];
  let skippedTrained = 0;
  for (const dir of Array.isArray(dirs) ? dirs : [dirs]) {
    for (const source of await labeledSources(dir)) {
      for (const label of LABELS) {
        const path = source.dirs[label];
        if (!path) continue;
        let list = await listFiles(path);
        if (opts.excludeTrained) {
          const held: string[] = [];
          for (const file of list) {
            const bytes = await readFile(file).catch(() => Buffer.alloc(0));
            if (partOf(split, file, label, bytes) !== 'test') skippedTrained++;
            else held.push(file);
          }
          list = held;
        }
        if (opts.limit !== undefined && opts.limit >= 0) list = list.slice(0, opts.limit);
        files.push(...list.map((file) => ({ source: source.name, label, file })));
      }
    }
  }
  if (!files.length) {
    const dirList = Array.isArray(dirs) ? dirs.join(' ') : dirs;
    process.stderr.write(
      `seg eval: no messages under ${dirList} (looked for {${LABELS.join(',')}}/ folders)\n`,
    );
    return 1;
  }

  const total = emptyMatrix();
  const bySource = new Map<string, Record<Label, Counts>>();
  const lines: string[] = [];
  let readErrors = 0;
  const bar = progress(files.length);
  const started = Date.now();
  for (const [i, { source, label, file }] of files.entries()) {
    const { verdict, readError } = await scanFile(file, config, offlineResolver, scanners);
    if (readError) readErrors++;
    total[label][verdict.action]++;
    const m = bySource.get(source) ?? emptyMatrix();
    bySource.set(source, m);
    m[label][verdict.action]++;
    if (opts.verdicts)
      lines.push([source, label, file, verdict.action, verdict.score, verdict.symbols.join(' ')].join('\t'));
    bar.tick(i + 1, started);
  }
  bar.end();
  const seconds = Math.max(0.001, (Date.now() - started) / 1000);
  const msgsPerSec = Math.round((files.length / seconds) * 10) / 10;
  if (opts.verdicts) {
    const text = `source\tlabel\tfile\taction\tscore\tsymbols\n${lines.join('\n')}\n`;
    await writeFile(opts.verdicts, opts.verdicts.endsWith('.gz') ? gzipSync(text, { level: 9 }) : text);
  }

  const sources = [...bySource.entries()].map(([name, m]) => ({ name, ...figures(m) }));
  const summary = {
    ...figures(total),
    msgsPerSec,
    seconds: Math.round(seconds * 10) / 10,
    readErrors,
    policyVersion: config.policy.version,
    sources,
    ...(opts.excludeTrained ? { split, skippedTrained } : {}),
  };

  if (opts.json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return 0;
  }
  const cell = (num: number, den: number) => (den ? `${pct(num, den)}% (${num}/${den})` : '-');
  const rows = [
    ['source', 'spam caught', 'phish caught', 'ham flagged'],
    ...[...sources, { name: 'TOTAL', ...figures(total) }].map((f) => [
      f.name,
      cell(f.spam.caught, f.spam.n),
      cell(f.phish.caught, f.phish.n),
      cell(f.ham.flagged, f.ham.n),
    ]),
  ];
  const matrix = [
    ['label', 'n', ...ACTIONS, 'flagged'],
    ...LABELS.map((l) => {
      const n = ACTIONS.reduce((s, a) => s + total[l][a], 0);
      return [l, String(n), ...ACTIONS.map((a) => String(total[l][a])), `${pct(flaggedOf(total[l]), n)}%`];
    }),
  ];
  const table = (t: string[][], left: boolean) => {
    const widths = t[0]!.map((_, c) => Math.max(...t.map((r) => (r[c] ?? '').length)));
    return t.map((r) =>
      r.map((v, c) => (left && c === 0 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!))).join('  '),
    );
  };
  const out = [...table(rows, true), '', ...table(matrix, false)];
  out.push(
    '',
    `ham false-positive rate: ${summary.ham.fpRate}% (${summary.ham.flagged} of ${summary.ham.n})`,
    `spam caught: ${summary.spam.rate}% (${summary.spam.caught} of ${summary.spam.n})`,
    `phish caught: ${summary.phish.rate}% (${summary.phish.caught} of ${summary.phish.n})`,
    `${files.length} messages in ${summary.seconds} s: ${msgsPerSec} messages/second`,
  );
  if (opts.excludeTrained)
    out.push(`${skippedTrained} messages skipped: in the training part of split ${split}`);
  if (readErrors) out.push(`${readErrors} files could not be read (scanned as empty messages)`);
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}
