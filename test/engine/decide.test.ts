import { describe, expect, it } from 'vitest';
import { decide } from '../../lambdas/engine/decide.ts';
import type { Family, SymbolName } from '../../lambdas/engine/symbols.ts';
import type { ScanResult } from '../../lambdas/engine/types.ts';
import { testConfig } from './helpers.ts';

const policy = testConfig().policy; // thresholds tag 5, quarantine 10, reject 25
const result = (
  family: Family,
  ...findings: { symbol: SymbolName; weight?: number; evidence?: string }[]
): ScanResult => ({
  scanner: family.toLowerCase(),
  family,
  findings,
  ms: 1,
});

describe('decide', () => {
  it('delivers below the tag threshold', () => {
    const v = decide([result('CONTENT', { symbol: 'CONTENT_HTML_ONLY' })], policy);
    expect(v.action).toBe('deliver');
    expect(v.reason).toBe('deliver: score 1.5 < 5 (CONTENT_HTML_ONLY 1.5)');
  });

  it('tags, quarantines and rejects by thresholds on the summed score', () => {
    const at = (w: number) =>
      decide([result('CONTENT', { symbol: 'CONTENT_SPAM_PHRASES', weight: w })], policy).action;
    expect(at(4.99)).toBe('deliver');
    expect(at(5)).toBe('tag');
    expect(at(10)).toBe('quarantine');
    expect(at(25)).toBe('reject');
  });

  it('sums weights from the symbol table and sorts symbols by weight', () => {
    const v = decide(
      [
        result('URL', { symbol: 'URL_SHORTENER' }, { symbol: 'URL_HREF_TEXT_MISMATCH' }),
        result('CONTENT', { symbol: 'CONTENT_URGENCY' }),
      ],
      policy,
    );
    expect(v.score).toBe(7.5);
    expect(v.action).toBe('tag');
    expect(v.symbols).toEqual(['URL_HREF_TEXT_MISMATCH', 'CONTENT_URGENCY', 'URL_SHORTENER']);
    expect(v.reason).toBe(
      'tag: score 7.5 >= 5 (URL_HREF_TEXT_MISMATCH 3, CONTENT_URGENCY 2.5, URL_SHORTENER 2)',
    );
  });

  it('lets policy weights override the table and the finding', () => {
    const p = { ...policy, weights: { CONTENT_HTML_ONLY: 12 } };
    const v = decide([result('CONTENT', { symbol: 'CONTENT_HTML_ONLY', weight: 1 })], p);
    expect(v.score).toBe(12);
    expect(v.action).toBe('quarantine');
  });

  it('never delivers GTUBE, even with an allow-listed sender', () => {
    const p = { ...policy, weights: { GTUBE: 1 } };
    const v = decide(
      [result('GTUBE', { symbol: 'GTUBE' }), result('LIST', { symbol: 'LIST_SENDER_ALLOWED' })],
      p,
    );
    expect(v.score).toBe(-19);
    expect(v.action).toBe('quarantine');
    expect(v.reason).toMatch(/^quarantine: GTUBE is never delivered; score -19/);
  });

  it('never delivers an SES virus verdict', () => {
    const v = decide(
      [
        result('SES', { symbol: 'SES_VIRUS_FAIL', weight: 0 }),
        result('LIST', { symbol: 'LIST_SENDER_ALLOWED' }),
      ],
      policy,
    );
    expect(v.action).toBe('quarantine');
  });

  it('quarantines a blocked sender', () => {
    const v = decide([result('LIST', { symbol: 'LIST_SENDER_BLOCKED', weight: 0 })], policy);
    expect(v.action).toBe('quarantine');
  });

  it('quarantines when a fail-closed family errs, and ignores the error otherwise', () => {
    const results = [result('AUTH', { symbol: 'AUTH_ERROR', evidence: 'auth: timed out' })];
    expect(decide(results, policy).action).toBe('deliver');
    const v = decide(results, { ...policy, failClosed: ['AUTH'] });
    expect(v.action).toBe('quarantine');
    expect(v.reason).toBe('quarantine: AUTH failed closed; score 0');
  });

  it('records the policy version and timings per scanner', () => {
    const v = decide([result('URL'), result('MIME')], { ...policy, version: '7' });
    expect(v.policyVersion).toBe('7');
    expect(v.timings).toEqual({ url: 1, mime: 1 });
  });
});
