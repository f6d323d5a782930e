import { describe, expect, it } from 'vitest';
import { decideOutbound } from '../../lambdas/engine/decide-outbound.ts';
import type { ScanResult } from '../../lambdas/engine/types.ts';
import { testConfig } from './helpers.ts';

const result = (family: ScanResult['family'], findings: ScanResult['findings']): ScanResult => ({
  scanner: family.toLowerCase(),
  family,
  findings,
  ms: 1,
});

describe('decideOutbound', () => {
  const config = testConfig();
  const decideWith = (results: ScanResult[], c = config) => decideOutbound(results, c.outbound, c.policy);

  it('sends (deliver) when no finding is one the policy acts on', () => {
    const v = decideWith([result('DLP', []), result('OUTBOUND', [])]);
    expect([v.action, v.reason]).toEqual(['deliver', 'send: no finding the outbound policy acts on']);
  });

  it('blocks (reject) on a card number and names the redacted evidence in the reason', () => {
    const v = decideWith([
      result('DLP', [
        { symbol: 'DLP_CARD_NUMBER', evidence: 'visa ************1111 in text (1 found)' },
        { symbol: 'DLP_IBAN', evidence: 'DE****3000 in text (1 found)' },
      ]),
    ]);
    expect([v.action, v.reason]).toEqual([
      'reject',
      'block: DLP_CARD_NUMBER (visa ************1111 in text (1 found))',
    ]);
  });

  it('blocks malware even when the policy names no action for it, and holds mail the antivirus could not scan', () => {
    const lax = testConfig({ outbound: { actions: { DLP_CARD_NUMBER: 'tag' } } });
    const infected = [result('AV', [{ symbol: 'AV_INFECTED', evidence: 'eicar.txt: Eicar-Signature' }])];
    expect(decideWith(infected, lax).action).toBe('reject');
    expect(decideWith(infected).reason).toBe('block: AV_INFECTED (eicar.txt: Eicar-Signature)');
    expect(decideWith([result('AV', [{ symbol: 'AV_ERROR', evidence: 'clamd: no answer' }])]).action).toBe(
      'quarantine',
    );
  });

  it('quarantines when the DLP scanner could not answer (nothing leaves unchecked)', () => {
    expect(decideWith([result('DLP', [{ symbol: 'DLP_ERROR', evidence: 'dlp: timed out' }])]).action).toBe(
      'quarantine',
    );
  });

  it('follows a configured action over the default', () => {
    const c = testConfig({ outbound: { actions: { DLP_CARD_NUMBER: 'tag' } } });
    expect(decideWith([result('DLP', [{ symbol: 'DLP_CARD_NUMBER' }])], c).action).toBe('tag');
  });
});
