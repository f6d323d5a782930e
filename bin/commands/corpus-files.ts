// What `seg scan` and `seg eval` share: the config they scan with, the files under a path, and reading one
// message file into a verdict. It reads files only; it prints nothing but a bad config's problems.

import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { loadUrlFeeds } from '../../lambdas/adapters/local/url-feeds.ts';
import { EMBEDDED_DEFAULT_CONFIG, loadConfig, parseConfig } from '../../lambdas/config/load-config.ts';
import type { SegConfig } from '../../lambdas/config/schema.ts';
import { scanMessage } from '../../lambdas/engine/scan-message.ts';
import type { Scanner } from '../../lambdas/engine/scanner.ts';
import type { Verdict } from '../../lambdas/engine/types.ts';
import type { AntivirusEngine, DnsResolver } from '../../lambdas/ports/index.ts';

/**
 * The config file given, or the embedded defaults (not ./seg.config.json: a corpus scan should not
 * depend on the folder it is run from). A bad config prints every problem on stderr and gives undefined,
 * so the command can exit 1 without a stack trace.
 */
export function loadCorpusConfig(path: string | undefined): SegConfig | undefined {
  try {
    return path ? loadConfig(path) : parseConfig(EMBEDDED_DEFAULT_CONFIG, 'embedded defaults');
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return undefined;
  }
}

/** Every regular file under `path` (itself if a file), sorted, following symlinks once per folder. */
export async function listFiles(path: string, seen = new Set<string>()): Promise<string[]> {
  const info = await stat(path);
  if (!info.isDirectory()) return [path];
  const real = await realpath(path);
  if (seen.has(real)) return [];
  seen.add(real);
  const names = (await readdir(path)).sort();
  const out: string[] = [];
  for (const name of names) {
    try {
      out.push(...(await listFiles(join(path, name), seen)));
    } catch {
      // A dangling symlink or a file removed meanwhile: nothing to scan there.
    }
  }
  return out;
}

/**
 * Reads a message file. Drops a leading mbox "From " separator line (the SpamAssassin corpus keeps
 * one), which is not a header and would otherwise end the header block for the parser.
 */
export async function readMessageFile(path: string): Promise<Uint8Array> {
  return stripMboxLine(await readFile(path));
}

/** The message without a leading mbox "From " separator line. */
export function stripMboxLine(buf: Buffer): Buffer {
  if (buf.subarray(0, 5).toString('latin1') === 'From ') {
    const nl = buf.indexOf(10);
    return nl < 0 ? Buffer.alloc(0) : buf.subarray(nl + 1);
  }
  return buf;
}

/** Scans one file; an unreadable file is scanned as an empty message, so it still gets a verdict. */
export async function scanFile(
  file: string,
  config: SegConfig,
  resolver: DnsResolver,
  scanners?: readonly Scanner[],
  antivirus?: AntivirusEngine,
): Promise<{ verdict: Verdict; readError?: string }> {
  let raw: Uint8Array;
  let readError: string | undefined;
  try {
    raw = await readMessageFile(file);
  } catch (err) {
    raw = new Uint8Array(0);
    readError = (err as Error).message;
  }
  const feeds = loadUrlFeeds(config.detection.feedsDir);
  const { verdict } = await scanMessage(raw, {
    config,
    resolver,
    feeds,
    ...(scanners ? { scanners } : {}),
    ...(antivirus ? { antivirus } : {}),
  });
  return readError ? { verdict, readError } : { verdict };
}

export const LABELS = ['ham', 'spam', 'phish'] as const;
export type Label = (typeof LABELS)[number];

/** One source of labeled mail: a folder holding ham/, spam/ and/or phish/. */
export interface LabeledSource {
  /** The folder's path relative to the parent of the folder given, e.g. "modern/apparmor". */
  readonly name: string;
  readonly dirs: Partial<Record<Label, string>>;
}

// Training text that is not mail (subject and body lines only): never scanned as messages.
export const TEXT_ONLY_FOLDERS = ['enron-text'];

const isDir = (path: string): Promise<boolean> =>
  stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );

/**
 * The labeled sources under `dir`: `dir` itself when it holds ham/, spam/ or phish/, else each
 * sub-folder that does, found up to three levels down (DIR/<source>/{ham,spam,phish}/, and
 * DIR/<group>/<source>/... as modern/<list>/). Sorted by name.
 */
export async function labeledSources(dir: string): Promise<LabeledSource[]> {
  const base = dirname(dir);
  const out: LabeledSource[] = [];
  const visit = async (path: string, depth: number): Promise<void> => {
    if (TEXT_ONLY_FOLDERS.includes(basename(path))) return;
    const dirs: Partial<Record<Label, string>> = {};
    for (const label of LABELS) if (await isDir(join(path, label))) dirs[label] = join(path, label);
    if (Object.keys(dirs).length) {
      out.push({ name: relative(base, path) || basename(path), dirs });
      return;
    }
    if (depth >= 3) return;
    const names = (await readdir(path).catch(() => [] as string[])).filter((n) => !n.startsWith('.')).sort();
    for (const name of names) if (await isDir(join(path, name))) await visit(join(path, name), depth + 1);
  };
  await visit(dir, 0);
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
