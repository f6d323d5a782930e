// Turns what parse noticed (problems, truncation) into MIME_* symbols. It re-parses nothing:
// parse.ts already walked the structure with limits.

import { problemKind } from '../parse.ts';
import type { Scanner } from '../scanner.ts';
import type { Finding } from '../types.ts';

export const mime: Scanner = {
  name: 'mime',
  family: 'MIME',
  async scan({ parsed }) {
    const out: Finding[] = [];
    const first = (kinds: readonly string[]): string | undefined =>
      parsed.problems.find((p) => kinds.includes(problemKind(p) ?? ''));
    const oversized = first(['oversized']);
    if (oversized) out.push({ symbol: 'MIME_OVERSIZED', evidence: oversized });
    const truncated = first(['truncated']);
    if (truncated || (parsed.truncated && !oversized)) {
      out.push({ symbol: 'MIME_TRUNCATED', evidence: truncated ?? 'a parse limit was reached' });
    }
    const malformed = first(['malformed', 'unparseable']);
    if (malformed) out.push({ symbol: 'MIME_MALFORMED', evidence: malformed.slice(0, 200) });
    const unreadable = first(['unreadable']);
    if (unreadable) out.push({ symbol: 'MIME_UNREADABLE_PART', evidence: unreadable });
    return out;
  },
};
