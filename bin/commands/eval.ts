// `seg eval DIR`: measures detection on a labeled folder laid out as ham/, spam/, phish/ (any depth
// below). Prints per-label counts, catch rates, the ham false-positive rate, a label x action matrix
// and throughput. Offline DNS, so figures are reproducible. It never opens links in the messages.

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { offlineResolver } from '../../lambdas/engine/scan-message.ts';
import { ACTIONS, type Action } from '../../lambdas/engine/types.ts';
import { listFiles, loadCorpusConfig, scanFile } from './corpus-files.ts';

export const LABELS = ['ham', 'spam', 'phish'] as const;
export type Label = (typeof LABELS)[number];

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

/** Runs the engine over a labeled folder and prints detection figures. Returns the exit code. */
export async function evalCommand(
  dir: string,
  opts: { json?: boolean; config?: string; limit?: number },
): Promise<number> {
  const config = loadCorpusConfig(opts.config);
  if (!config) return 1;

  const files: { label: Label; file: string }[] = [];
  for (const label of LABELS) {
    const path = join(dir, label);
    const isDir = await stat(path).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!isDir) continue;
    let list = await listFiles(path);
    if (opts.limit !== undefined && opts.limit >= 0) list = list.slice(0, opts.limit);
    files.push(...list.map((file) => ({ label, file })));
  }
  if (!files.length) {
    process.stderr.write(`seg eval: no messages under ${dir}/{${LABELS.join(',')}}\n`);
    return 1;
  }

  const matrix: Record<Label, Counts> = { ham: emptyCounts(), spam: emptyCounts(), phish: emptyCounts() };
  let readErrors = 0;
  const bar = progress(files.length);
  const started = Date.now();
  for (const [i, { label, file }] of files.entries()) {
    const { verdict, readError } = await scanFile(file, config, offlineResolver);
    if (readError) readErrors++;
    matrix[label][verdict.action]++;
    bar.tick(i + 1, started);
  }
  bar.end();
  const seconds = Math.max(0.001, (Date.now() - started) / 1000);
  const msgsPerSec = Math.round((files.length / seconds) * 10) / 10;

  const n = (l: Label) => ACTIONS.reduce((s, a) => s + matrix[l][a], 0);
  const summary = {
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
    msgsPerSec,
    seconds: Math.round(seconds * 10) / 10,
    readErrors,
    policyVersion: config.policy.version,
  };

  if (opts.json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return 0;
  }
  const rows = [
    ['label', 'n', ...ACTIONS, 'flagged'],
    ...LABELS.map((l) => [
      l,
      String(n(l)),
      ...ACTIONS.map((a) => String(matrix[l][a])),
      `${pct(flaggedOf(matrix[l]), n(l))}%`,
    ]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const out = rows.map((r) => r.map((cell, c) => cell.padStart(widths[c]!)).join('  '));
  out.push(
    '',
    `ham false-positive rate: ${summary.ham.fpRate}% (${summary.ham.flagged} of ${summary.ham.n})`,
    `spam caught: ${summary.spam.rate}% (${summary.spam.caught} of ${summary.spam.n})`,
    `phish caught: ${summary.phish.rate}% (${summary.phish.caught} of ${summary.phish.n})`,
    `${files.length} messages in ${summary.seconds} s: ${msgsPerSec} messages/second`,
  );
  if (readErrors) out.push(`${readErrors} files could not be read (scanned as empty messages)`);
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}
