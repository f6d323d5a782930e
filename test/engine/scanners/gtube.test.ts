import { describe, expect, it } from 'vitest';
import { GTUBE_STRING, gtube } from '../../../lambdas/engine/scanners/gtube.ts';
import { ctxFrom, eml, fixture, inputFrom } from '../helpers.ts';

describe('gtube scanner', () => {
  it('emits GTUBE when the string is in the body', async () => {
    const findings = await gtube.scan(await inputFrom(fixture('gtube-in-body.eml')), ctxFrom());
    expect(findings).toEqual([{ symbol: 'GTUBE', evidence: 'in text' }]);
  });

  it('emits GTUBE when the string is in the subject', async () => {
    const input = await inputFrom(eml({ From: 'a@example.org', Subject: GTUBE_STRING }, 'hello'));
    expect((await gtube.scan(input, ctxFrom())).map((f) => f.symbol)).toEqual(['GTUBE']);
  });

  it('emits nothing for ordinary mail', async () => {
    expect(await gtube.scan(await inputFrom(fixture('clean-plain.eml')), ctxFrom())).toEqual([]);
  });
});

describe('gtube scanner on padded mail (issue 7)', () => {
  it('emits GTUBE when 2.1 MB of padding pushes the string past the body cap', async () => {
    const body = `${'padding line of harmless text\n'.repeat(72_000)}${GTUBE_STRING}\n`;
    const input = await inputFrom(eml({ From: 'a@example.org', Subject: 'padded' }, body));
    expect(input.parsed.text).not.toContain(GTUBE_STRING);
    const findings = await gtube.scan(input, ctxFrom());
    expect(findings.map((f) => f.symbol)).toEqual(['GTUBE']);
    expect(findings[0]?.evidence).toMatch(/^in the raw message at byte \d+$/);
  });
});
