// GTUBE: the Generic Test for Unsolicited Bulk Email string. Finds it anywhere in the subject or
// bodies so operators can test the spam path end to end. Nothing else.

import type { Scanner } from '../scanner.ts';

/** The GTUBE string, as published by SpamAssassin. */
export const GTUBE_STRING = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

export const gtube: Scanner = {
  name: 'gtube',
  family: 'GTUBE',
  async scan({ parsed }) {
    const where = [
      ['subject', parsed.subject],
      ['text', parsed.text],
      ['html', parsed.html],
    ] as const;
    const hit = where.find(([, s]) => s.includes(GTUBE_STRING));
    return hit ? [{ symbol: 'GTUBE', evidence: `in ${hit[0]}` }] : [];
  },
};
