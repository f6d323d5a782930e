import { describe, expect, it } from 'vitest';
import { sesVerdicts } from '../../../lambdas/engine/scanners/ses-verdicts.ts';
import type { SesVerdicts } from '../../../lambdas/engine/types.ts';
import { ctxFrom, fixture, inputFrom } from '../helpers.ts';

const scan = async (ses: SesVerdicts | undefined) =>
  (await sesVerdicts.scan(await inputFrom(fixture('clean-plain.eml'), ses ? { ses } : {}), ctxFrom())).map(
    (f) => f.symbol,
  );

describe('ses-verdicts scanner', () => {
  it('emits nothing when SES verdicts are absent', async () => {
    expect(await scan(undefined)).toEqual([]);
  });

  it('emits one symbol per FAIL verdict', async () => {
    expect(await scan({ spam: 'FAIL', virus: 'FAIL', spf: 'FAIL', dkim: 'FAIL', dmarc: 'FAIL' })).toEqual([
      'SES_SPAM_FAIL',
      'SES_VIRUS_FAIL',
      'SES_SPF_FAIL',
      'SES_DKIM_FAIL',
      'SES_DMARC_FAIL',
    ]);
  });

  it('emits SES_DMARC_FAIL_REJECT when the failing domain asks for reject', async () => {
    expect(await scan({ dmarc: 'FAIL', dmarcPolicy: 'REJECT' })).toEqual(['SES_DMARC_FAIL_REJECT']);
  });

  it('emits SES_ERROR for PROCESSING_FAILED and nothing for GRAY, DISABLED or PASS', async () => {
    expect(await scan({ spam: 'GRAY', virus: 'PROCESSING_FAILED', spf: 'DISABLED', dkim: 'PASS' })).toEqual([
      'SES_ERROR',
    ]);
  });
});
