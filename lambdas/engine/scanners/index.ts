// The scanner registry, grouped by the workflow's scanner Lambdas (one Parallel branch per group).
// Adding a scanner: its file, one line here, its rows in symbols.ts, and its test.

import type { Scanner } from '../scanner.ts';
import { antivirus } from './antivirus.ts';
import { attachmentArchives } from './attachment-archives.ts';
import { attachmentContent } from './attachment-content.ts';
import { attachmentTypes } from './attachment-types.ts';
import { auth } from './auth.ts';
import { classifier } from './classifier.ts';
import { content } from './content.ts';
import { dlp } from './dlp.ts';
import { gtube } from './gtube.ts';
import { headers } from './headers.ts';
import { html } from './html.ts';
import { impersonation } from './impersonation.ts';
import { lists } from './lists.ts';
import { mime } from './mime.ts';
import { sesLimits } from './ses-limits.ts';
import { sesVerdicts } from './ses-verdicts.ts';
import { urls } from './urls.ts';

/** The workflow's scanner groups; each runs as one Lambda in the Scan state's Parallel branches. */
export type ScannerGroup = 'auth' | 'content' | 'lists' | 'attachments' | 'antivirus';

export const SCANNER_GROUPS = {
  auth: [auth, sesVerdicts],
  content: [gtube, content, html, urls, mime, impersonation, headers, classifier],
  lists: [lists],
  attachments: [attachmentTypes, attachmentArchives, attachmentContent],
  // Its own Lambda in AWS: it needs the clamd binary and memory for the signature database.
  antivirus: [antivirus],
} as const satisfies Record<ScannerGroup, readonly Scanner[]>;

/** Every registered inbound scanner, in group order. */
export const ALL_SCANNERS: readonly Scanner[] = Object.values(SCANNER_GROUPS).flat();

/**
 * The outbound workflow's scanner groups, each one Lambda in its Scan Parallel. The outbound abuse
 * check is a branch of its own with state (a counter), not a scanner.
 */
export const OUTBOUND_SCANNER_GROUPS = {
  dlp: [dlp, sesLimits],
} as const satisfies Record<string, readonly Scanner[]>;
export type OutboundScannerGroup = keyof typeof OUTBOUND_SCANNER_GROUPS;
