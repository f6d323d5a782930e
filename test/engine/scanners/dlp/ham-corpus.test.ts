// DLP on the SpamAssassin ham corpus (../shared/corpus/spamassassin/ham): ordinary mail must not be
// blocked. Every finding whose default outbound action is block must be one of the true positives
// listed here, each checked by hand. Skipped only when the corpus folder is absent.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dlp } from '../../../../lambdas/engine/scanners/dlp.ts';
import { ctxFrom, inputFrom, testConfig } from '../../helpers.ts';

const REPO = join(import.meta.dirname, '..', '..', '..', '..');
// The corpus sits beside the repository (or beside the folder of worktrees).
const HAM = [join(REPO, '..', 'shared'), join(REPO, '..', '..', 'shared')]
  .map((d) => join(d, 'corpus', 'spamassassin', 'ham'))
  .find((d) => existsSync(d));

/** Hand-checked true positives: corpus file -> the blocking symbols it really contains. */
const TRUE_POSITIVES: Readonly<Record<string, readonly string[]>> = {};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

describe.skipIf(!HAM)('DLP on the ham corpus', () => {
  it('blocks no ham message except the listed true positives', { timeout: 600_000 }, async () => {
    const config = testConfig();
    const blocking = new Set(
      Object.entries(config.outbound.actions)
        .filter(([, action]) => action === 'block')
        .map(([symbol]) => symbol),
    );
    const hits: Record<string, string[]> = {};
    const all: string[] = [];
    const paths = files(HAM ?? '');
    for (const path of paths) {
      const findings = await dlp.scan(await inputFrom(readFileSync(path)), ctxFrom(config));
      const rel = path.slice((HAM ?? '').length + 1);
      for (const f of findings)
        if (f.symbol !== 'DLP_TRUNCATED') all.push(`${rel} ${f.symbol} ${f.evidence}`);
      const symbols = findings.map((f) => f.symbol).filter((s) => blocking.has(s));
      if (symbols.length) hits[rel] = symbols;
    }
    console.log(`DLP on ${paths.length} ham messages: ${all.length} findings\n${all.join('\n')}`);
    expect(paths.length).toBeGreaterThan(1000);
    expect(hits).toEqual(TRUE_POSITIVES);
  });
});
