// The scanner registry, grouped by the workflow's scanner Lambdas (one Parallel branch per group).
// Adding a scanner: its file, one line here, its rows in symbols.ts, and its test.

import type { Scanner } from '../scanner.ts';
import { auth } from './auth.ts';
import { content } from './content.ts';
import { gtube } from './gtube.ts';
import { lists } from './lists.ts';
import { mime } from './mime.ts';
import { sesVerdicts } from './ses-verdicts.ts';
import { urls } from './urls.ts';

/** The workflow's scanner groups; each runs as one Lambda in the Scan state's Parallel branches. */
export type ScannerGroup = 'auth' | 'content' | 'lists';

export const SCANNER_GROUPS = {
  auth: [auth, sesVerdicts],
  content: [gtube, content, urls, mime],
  lists: [lists],
} as const satisfies Record<ScannerGroup, readonly Scanner[]>;

/** Every registered scanner, in group order. */
export const ALL_SCANNERS: readonly Scanner[] = Object.values(SCANNER_GROUPS).flat();
