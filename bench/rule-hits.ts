// Per-symbol hit rates on labeled mail: for each symbol, the share of ham, spam and phish messages
// that carry it. How every detection rule is kept honest: a rule must hit very little ham (modern ham
// included) to keep its weight. Prints a table (or --json); asserts nothing.
//   npx tsx bench/rule-hits.ts ham=DIR spam=DIR phish=DIR [ham=DIR2 ...] [--every N] [--json]
// e.g. with ../shared/corpus: ham=spamassassin/ham ham-modern=modern/*/ham spam=spamassassin/spam
// spam-modern=modern/*/spam phish=phishing_pot/phish (a label may repeat; a suffix names a sub-row).

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EMBEDDED_DEFAULT_CONFIG, parseConfig } from '../lambdas/config/load-config.ts';
import { offlineResolver, scanMessage } from '../lambdas/engine/scan-message.ts';

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else if (entry.isFile() && !entry.name.startsWith('.') && !entry.name.endsWith('.tsv')) out.push(path);
  }
  return out.sort();
}

const args = process.argv.slice(2);
const json = args.includes('--json');
const everyAt = args.indexOf('--every');
const every = everyAt >= 0 ? Number(args[everyAt + 1]) : 1;
const sets = args.filter((a) => a.includes('='));
const config = parseConfig({
  ...(EMBEDDED_DEFAULT_CONFIG as object),
  // A protected domain and a VIP, so the impersonation rules run as they would for a customer.
  detection: { vips: [{ name: 'Jane Doe' }], organizationNames: ['Example Corp'] },
});

const rows = new Map<string, { n: number; hits: Map<string, number> }>();
for (const set of sets) {
  const [label, dirs] = set.split('=') as [string, string];
  const row = rows.get(label) ?? { n: 0, hits: new Map<string, number>() };
  rows.set(label, row);
  for (const dir of dirs.split(',')) {
    const files = (await filesUnder(dir)).filter((_, i) => i % every === 0);
    for (const file of files) {
      const { verdict } = await scanMessage(await readFile(file), { config, resolver: offlineResolver });
      row.n++;
      for (const s of verdict.symbols) row.hits.set(s, (row.hits.get(s) ?? 0) + 1);
    }
  }
}

const labels = [...rows.keys()];
const symbols = [...new Set(labels.flatMap((l) => [...rows.get(l)!.hits.keys()]))].sort();
const pct = (l: string, s: string): number => {
  const r = rows.get(l)!;
  return r.n ? Math.round(((r.hits.get(s) ?? 0) / r.n) * 10_000) / 100 : 0;
};
if (json) {
  const out = Object.fromEntries(
    symbols.map((s) => [s, Object.fromEntries(labels.map((l) => [l, pct(l, s)]))]),
  );
  process.stdout.write(
    `${JSON.stringify({ n: Object.fromEntries(labels.map((l) => [l, rows.get(l)!.n])), hitsPct: out })}\n`,
  );
} else {
  const table = [
    ['symbol', ...labels.map((l) => `${l} (${rows.get(l)!.n})`)],
    ...symbols.map((s) => [s, ...labels.map((l) => `${pct(l, s)}%`)]),
  ];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
  process.stdout.write(
    `${table.map((r) => r.map((c, i) => (i ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ')).join('\n')}\n`,
  );
}
