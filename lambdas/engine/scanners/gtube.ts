// GTUBE: the Generic Test for Unsolicited Bulk Email string. Finds it anywhere in the subject, the
// bodies or the raw bytes, so padding beyond the body cap cannot hide it. Nothing else.

import type { Scanner } from '../scanner.ts';

/** The GTUBE string, as published by SpamAssassin. */
export const GTUBE_STRING = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';
const GTUBE_BYTES = Buffer.from(GTUBE_STRING, 'latin1');

export const gtube: Scanner = {
  name: 'gtube',
  family: 'GTUBE',
  async scan({ parsed, raw }) {
    const where = [
      ['subject', parsed.subject],
      ['text', parsed.text],
      ['html', parsed.html],
    ] as const;
    const hit = where.find(([, s]) => s.includes(GTUBE_STRING));
    if (hit) return [{ symbol: 'GTUBE', evidence: `in ${hit[0]}` }];
    // The decoded bodies are capped (limits.maxBodyChars); the raw message is every accepted byte.
    // One linear search, as cheap as the copy that loaded it.
    const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    const at = bytes.indexOf(GTUBE_BYTES);
    return at >= 0 ? [{ symbol: 'GTUBE', evidence: `in the raw message at byte ${at}` }] : [];
  },
};
