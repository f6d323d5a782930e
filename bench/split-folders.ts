// Writes symlink folders of the corpus split, for running other filters on exactly the held-back
// messages: OUT/test/<source>/{ham,spam,phish}/ and OUT/train/<source>/{ham,spam,phish}/, plus
// OUT/train/MANIFEST.tsv in the layout the baselines' setup-sa-bayes.sh --corpus reads (its ham and
// spam rows under source "spamassassin", its phish under phishing_pot/phish/), so SpamAssassin's Bayes
// learns from the same training part as seg. Sources are named with "-" for "/" (modern-apparmor),
// as the baseline harness reads one level of sources.
//   npx tsx bench/split-folders.ts CORPUS OUT [hash70|phish-time]

import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { LABELS, labeledSources, listFiles } from '../bin/commands/corpus-files.ts';
import { partOf, SPLITS, type SplitName, sha256Hex } from '../bin/commands/corpus-split.ts';

const [corpus, out, split = 'hash70'] = process.argv.slice(2);
if (!corpus || !out || !SPLITS.includes(split as SplitName)) {
  console.error('usage: tsx bench/split-folders.ts CORPUS OUT [hash70|phish-time]');
  process.exit(2);
}
const manifest = ['path\tlabel\tbytes\tsha256\tsource\torigin'];
const counts: Record<string, number> = {};
for (const group of ['spamassassin', 'phishing_pot', 'modern']) {
  for (const source of await labeledSources(join(corpus, group))) {
    for (const label of LABELS) {
      const dir = source.dirs[label];
      if (!dir) continue;
      for (const file of await listFiles(dir)) {
        const bytes = readFileSync(file);
        const part = partOf(split as SplitName, file, label, bytes);
        const name = source.name.replaceAll('/', '-');
        mkdirSync(join(out, part, name, label), { recursive: true });
        symlinkSync(resolve(file), join(out, part, name, label, basename(file)));
        counts[`${part} ${label}`] = (counts[`${part} ${label}`] ?? 0) + 1;
        if (part !== 'train') continue;
        const path = `${name}/${label}/${basename(file)}`;
        const row = label === 'phish' ? [path, label, 'phishing_pot'] : [path, label, 'spamassassin'];
        manifest.push([row[0], row[1], bytes.length, sha256Hex(bytes), row[2], '-'].join('\t'));
      }
    }
  }
}
mkdirSync(join(out, 'train'), { recursive: true });
writeFileSync(join(out, 'train', 'MANIFEST.tsv'), `${manifest.join('\n')}\n`);
console.log(JSON.stringify(counts));
