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
