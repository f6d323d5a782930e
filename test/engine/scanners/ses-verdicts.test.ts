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

  it('maps SPF, DKIM and DMARC verdicts to the same symbols mailauth yields', async () => {
    expect(await scan({ spf: 'PASS', dkim: 'FAIL', dmarc: 'GRAY' })).toEqual([
      'SPF_PASS',
      'DKIM_FAIL',
      'DMARC_NONE',
    ]);
    expect(await scan({ spf: 'GRAY', dkim: 'GRAY', dmarc: 'PASS' })).toEqual([
      'SPF_NONE',
      'DKIM_NONE',
      'DMARC_PASS',
    ]);
  });

  it("names the failing domain's DMARC policy", async () => {
    expect(await scan({ dmarc: 'FAIL', dmarcPolicy: 'REJECT' })).toEqual(['DMARC_FAIL_REJECT']);
    expect(await scan({ dmarc: 'FAIL', dmarcPolicy: 'QUARANTINE' })).toEqual(['DMARC_FAIL_QUARANTINE']);
    expect(await scan({ dmarc: 'FAIL' })).toEqual(['DMARC_FAIL_NONE']);
  });

  it('emits SES_SPAM_FAIL and SES_VIRUS_FAIL for the verdicts mailauth has no word for', async () => {
    expect(await scan({ spam: 'FAIL', virus: 'FAIL' })).toEqual(['SES_SPAM_FAIL', 'SES_VIRUS_FAIL']);
  });

  it('emits temperror for an authentication check SES could not run, SES_ERROR for spam or virus', async () => {
    expect(
      await scan({ spf: 'PROCESSING_FAILED', virus: 'PROCESSING_FAILED', spam: 'GRAY', dkim: 'DISABLED' }),
    ).toEqual(['SPF_TEMPERROR', 'SES_ERROR']);
  });
});
