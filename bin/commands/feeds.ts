// `seg feeds update FILE` imports a known-bad URL/domain list from a local file into the feeds folder
// (config `detection.feedsDir`, or --dir); `seg feeds list` shows what is there. It never downloads:
// fetching a feed is the operator's choice of tool and source.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { importUrlFeed, loadUrlFeeds } from '../../lambdas/adapters/local/url-feeds.ts';
import { loadCorpusConfig } from './corpus-files.ts';

export interface FeedsArgs {
  readonly file?: string;
  readonly name?: string;
  readonly dir?: string;
  readonly config?: string;
}

function feedsDir(args: FeedsArgs): string | undefined {
  if (args.dir) return args.dir;
  const config = loadCorpusConfig(args.config);
  return config?.detection.feedsDir;
}

export async function feedsCommand(action: 'update' | 'list', args: FeedsArgs): Promise<number> {
  const dir = feedsDir(args);
  if (!dir) {
    process.stderr.write('seg feeds: no feeds folder: pass --dir or set detection.feedsDir in the config\n');
    return 1;
  }
  if (action === 'list') {
    const files = existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => f.endsWith('.txt'))
          .sort()
      : [];
    const feeds = loadUrlFeeds(dir);
    for (const f of files)
      process.stdout.write(`${basename(f, '.txt')}\t${statSync(join(dir, f)).mtime.toISOString()}\n`);
    process.stdout.write(`${feeds.domains.size} domains and ${feeds.urls.size} URLs in ${dir}\n`);
    return 0;
  }
  const file = args.file;
  if (!file || !existsSync(file) || !statSync(file).isFile()) {
    process.stderr.write(`seg feeds update: ${file ?? '(none)'} is not a readable file\n`);
    return 1;
  }
  try {
    const name = args.name ?? basename(file, extname(file));
    const { kept, skipped, path } = importUrlFeed(dir, file, name);
    process.stdout.write(
      `imported ${kept} entries into ${path}${skipped ? ` (${skipped} lines skipped)` : ''}\n`,
    );
    return 0;
  } catch (err) {
    process.stderr.write(`seg feeds update: ${(err as Error).message}\n`);
    return 1;
  }
}
