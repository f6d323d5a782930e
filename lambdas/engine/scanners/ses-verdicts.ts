// Maps the verdicts SES computed at receipt (input.ses) to SES_* symbols. GRAY and DISABLED mean
// "no opinion" and yield nothing; PROCESSING_FAILED yields SES_ERROR. It computes nothing itself.

import type { Scanner } from '../scanner.ts';
import type { Finding } from '../types.ts';

export const sesVerdicts: Scanner = {
  name: 'ses-verdicts',
  family: 'SES',
  async scan({ ses }) {
    if (!ses) return [];
    const out: Finding[] = [];
    const failed: string[] = [];
    const check = (name: string, status: string | undefined, symbol: Finding['symbol']): void => {
      if (status === 'FAIL') out.push({ symbol, evidence: `${name}Verdict FAIL` });
      if (status === 'PROCESSING_FAILED') failed.push(name);
    };
    check('spam', ses.spam, 'SES_SPAM_FAIL');
    check('virus', ses.virus, 'SES_VIRUS_FAIL');
    check('spf', ses.spf, 'SES_SPF_FAIL');
    check('dkim', ses.dkim, 'SES_DKIM_FAIL');
    check('dmarc', ses.dmarc, ses.dmarcPolicy === 'REJECT' ? 'SES_DMARC_FAIL_REJECT' : 'SES_DMARC_FAIL');
    if (failed.length) out.push({ symbol: 'SES_ERROR', evidence: `PROCESSING_FAILED: ${failed.join(', ')}` });
    return out;
  },
};
