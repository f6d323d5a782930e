import { describe, expect, it } from 'vitest';
import {
  ALL_SCANNERS,
  OUTBOUND_SCANNER_GROUPS,
  SCANNER_GROUPS,
} from '../../lambdas/engine/scanners/index.ts';
import { errorSymbol, FAMILIES, SYMBOLS } from '../../lambdas/engine/symbols.ts';

describe('scanner registry', () => {
  it('groups the scanners as the workflow runs them', () => {
    expect(
      Object.fromEntries(Object.entries(SCANNER_GROUPS).map(([g, list]) => [g, list.map((s) => s.name)])),
    ).toEqual({
      auth: ['auth', 'ses-verdicts'],
      content: ['gtube', 'content', 'html', 'urls', 'mime', 'impersonation', 'headers', 'classifier'],
      lists: ['lists'],
      attachments: ['attachment-types', 'attachment-archives', 'attachment-content'],
      antivirus: ['antivirus'],
    });
  });

  it('runs DLP only in the outbound workflow', () => {
    expect(OUTBOUND_SCANNER_GROUPS.dlp.map((s) => s.name)).toEqual(['dlp', 'ses-limits']);
    expect(ALL_SCANNERS.map((s) => s.family)).not.toContain('DLP');
  });

  it('gives every scanner a unique name, so timings and traces are unambiguous', () => {
    const names = ALL_SCANNERS.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('has an _ERROR symbol in the table for every family', () => {
    for (const family of FAMILIES) {
      expect(SYMBOLS[errorSymbol(family)]?.family).toBe(family);
    }
  });
});
