// Reads the known-bad URL/domain feed folder (config `detection.feedsDir`) once per process, and
// imports a feed file into it (`seg feeds update`). It never fetches anything from the network.

import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { buildFeeds, EMPTY_FEEDS, feedEntry, type UrlFeeds } from '../../engine/feeds.ts';

const loaded = new Map<string, UrlFeeds>();

/** The feeds under `dir` (every *.txt file), read on first use and kept for the process's life. */
export function loadUrlFeeds(dir: string | undefined): UrlFeeds {
  if (!dir) return EMPTY_FEEDS;
  const cached = loaded.get(dir);
  if (cached) return cached;
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.txt'))
        .sort()
    : [];
  const feeds = buildFeeds(
    files.map((f) => [basename(f, '.txt'), readFileSync(join(dir, f), 'utf8')] as const),
  );
  loaded.set(dir, feeds);
  return feeds;
}

/**
 * Imports `file` into `dir` as `<name>.txt`, keeping only valid entries (one URL or domain a line),
 * written to a temporary file and renamed so a reader never sees half a feed. Returns the counts.
 */
export function importUrlFeed(
  dir: string,
  file: string,
  name: string,
): { kept: number; skipped: number; path: string } {
  if (!/^[a-z0-9][a-z0-9._-]{0,63}$/i.test(name))
    throw new Error(`feed name "${name}" must be letters, digits, . _ -`);
  const lines = readFileSync(file, 'utf8').split('\n');
  const kept = new Set<string>();
  let skipped = 0;
  for (const line of lines) {
    const e = feedEntry(line);
    if (e) kept.add('url' in e ? e.url : e.host);
    else if (line.replace(/#.*/, '').trim()) skipped++;
  }
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.txt`);
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${[...kept].sort().join('\n')}\n`);
  renameSync(tmp, path);
  loaded.delete(dir);
  return { kept: kept.size, skipped, path };
}
