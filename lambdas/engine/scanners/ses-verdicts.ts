// Maps the verdicts SES computed at receipt (input.ses) to symbols. SPF, DKIM and DMARC map to the
// same AUTH symbols mailauth yields (SES saw the real SMTP connection, so its answer wins; see
// auth.ts); spam and virus have SES_* symbols of their own. It computes nothing itself.

import type { Scanner } from '../scanner.ts';
import type { SymbolName } from '../symbols.ts';
import type { Finding, SesVerdictStatus, SesVerdicts } from '../types.ts';

type AuthMethod = 'spf' | 'dkim' | 'dmarc';

/** SES's word per method and status; GRAY means no record or no signature (SES receipt docs). */
const AUTH_SYMBOLS: Record<AuthMethod, Partial<Record<SesVerdictStatus, SymbolName>>> = {
  spf: { PASS: 'SPF_PASS', FAIL: 'SPF_FAIL', GRAY: 'SPF_NONE', PROCESSING_FAILED: 'SPF_TEMPERROR' },
  dkim: { PASS: 'DKIM_PASS', FAIL: 'DKIM_FAIL', GRAY: 'DKIM_NONE', PROCESSING_FAILED: 'DKIM_TEMPERROR' },
  dmarc: {
    PASS: 'DMARC_PASS',
    FAIL: 'DMARC_FAIL_NONE',
    GRAY: 'DMARC_NONE',
    PROCESSING_FAILED: 'DMARC_TEMPERROR',
  },
};

const DMARC_FAIL_BY_POLICY = {
  NONE: 'DMARC_FAIL_NONE',
  QUARANTINE: 'DMARC_FAIL_QUARANTINE',
  REJECT: 'DMARC_FAIL_REJECT',
} as const satisfies Record<NonNullable<SesVerdicts['dmarcPolicy']>, SymbolName>;

/** The authentication methods SES answered, so the auth scanner leaves them to SES. */
export function sesAnsweredMethods(ses: SesVerdicts | undefined): AuthMethod[] {
  if (!ses) return [];
  return (['spf', 'dkim', 'dmarc'] as const).filter((m) => {
    const status = ses[m];
    return status !== undefined && AUTH_SYMBOLS[m][status] !== undefined;
  });
}

export const sesVerdicts: Scanner = {
  name: 'ses-verdicts',
  family: 'SES',
  reads: 'raw',
  async scan({ ses }) {
    if (!ses) return [];
    const out: Finding[] = [];
    for (const method of sesAnsweredMethods(ses)) {
      const status = ses[method]!;
      const symbol =
        method === 'dmarc' && status === 'FAIL'
          ? DMARC_FAIL_BY_POLICY[ses.dmarcPolicy ?? 'NONE']
          : AUTH_SYMBOLS[method][status]!;
      out.push({
        symbol,
        evidence: `SES ${method}Verdict ${status}${symbol.startsWith('DMARC_FAIL') ? ` policy ${ses.dmarcPolicy ?? 'NONE'}` : ''}`,
      });
    }
    if (ses.spam === 'FAIL') out.push({ symbol: 'SES_SPAM_FAIL', evidence: 'SES spamVerdict FAIL' });
    if (ses.virus === 'FAIL') out.push({ symbol: 'SES_VIRUS_FAIL', evidence: 'SES virusVerdict FAIL' });
    const failed = (['spam', 'virus'] as const).filter((k) => ses[k] === 'PROCESSING_FAILED');
    if (failed.length) out.push({ symbol: 'SES_ERROR', evidence: `PROCESSING_FAILED: ${failed.join(', ')}` });
    return out;
  },
};
