import { describe, expect, it } from 'vitest';
import { lists, matchesEntry } from '../../../lambdas/engine/scanners/lists.ts';
import { ctxFrom, fixture, inputFrom, testConfig } from '../helpers.ts';

const scanWith = async (allow: string[], block: string[], mailFrom?: string) => {
  const input = await inputFrom(fixture('blocked-sender.eml'), {
    ...(mailFrom ? { envelope: { mailFrom, recipients: ['bob@example.com'] } } : {}),
  });
  return (await lists.scan(input, ctxFrom(testConfig({ lists: { allow, block } })))).map((f) => f.symbol);
};

describe('matchesEntry', () => {
  it('matches full addresses, exact domains and *.domain case-insensitively', () => {
    expect(matchesEntry('offers@blocked.example', 'Offers@Blocked.Example')).toBe(true);
    expect(matchesEntry('offers@blocked.example', 'blocked.example')).toBe(true);
    expect(matchesEntry('offers@mail.blocked.example', 'blocked.example')).toBe(false);
    expect(matchesEntry('offers@mail.blocked.example', '*.blocked.example')).toBe(true);
    expect(matchesEntry('offers@blocked.example', '*.blocked.example')).toBe(true);
    expect(matchesEntry('offers@notblocked.example', '*.blocked.example')).toBe(false);
  });
});

describe('lists scanner', () => {
  it('emits LIST_SENDER_BLOCKED when the From domain is blocked', async () => {
    expect(await scanWith([], ['blocked.example'])).toEqual(['LIST_SENDER_BLOCKED']);
  });

  it('emits LIST_SENDER_ALLOWED when the sender is allowed', async () => {
    expect(await scanWith(['offers@blocked.example'], [])).toEqual(['LIST_SENDER_ALLOWED']);
  });

  it('lets block win over allow', async () => {
    expect(await scanWith(['blocked.example'], ['offers@blocked.example'])).toEqual(['LIST_SENDER_BLOCKED']);
  });

  it('matches the envelope MAIL FROM too', async () => {
    expect(await scanWith([], ['*.bounces.example'], 'x@mta.bounces.example')).toEqual([
      'LIST_SENDER_BLOCKED',
    ]);
  });

  it('emits nothing when no entry matches', async () => {
    expect(await scanWith(['partner.example'], ['spam.example'])).toEqual([]);
  });
});
