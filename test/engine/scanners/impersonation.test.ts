import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BANK_CHANGE,
  becRequest,
  GIFT_CARD,
  impersonation,
  PAYMENT,
  PRESSURE,
} from '../../../lambdas/engine/scanners/impersonation.ts';
import { ctxFrom, eml, fixture, inputFrom, testConfig } from '../helpers.ts';

const VIP_CONFIG = testConfig({
  detection: {
    vips: [{ name: 'Jane Doe', addresses: ['jane@home.example'] }],
    organizationNames: ['Example Corp'],
  },
});
const scan = async (
  raw: string | Buffer,
  config = VIP_CONFIG,
  envelope?: { mailFrom: string; recipients: string[] },
) => impersonation.scan(await inputFrom(raw, envelope ? { envelope } : {}), ctxFrom(config));
const symbolsOf = async (raw: string | Buffer, config = VIP_CONFIG) =>
  (await scan(raw, config)).map((f) => f.symbol).sort();

describe('impersonation scanner', () => {
  it('emits IMPERSONATION_VIP_NAME when a VIP name comes from an outside domain', async () => {
    const [finding] = await scan(fixture('vip-display-name-spoof.eml'));
    expect(finding).toEqual({
      symbol: 'IMPERSONATION_VIP_NAME',
      evidence: '"Jane Doe" <jane.doe.office@freemail.example> names Jane Doe',
    });
  });

  it("accepts a VIP's name from a protected domain or from one of the VIP's own addresses", async () => {
    for (const from of ['"Jane Doe" <jane@example.com>', '"Doe, Jane" <jane@home.example>']) {
      expect(await symbolsOf(eml({ From: from, Subject: 'hi' }, 'hello'))).toEqual([]);
    }
  });

  it('matches a VIP name in another order and case, with a title', async () => {
    const raw = eml({ From: '"DOE, Jane (CEO)" <ceo@elsewhere.example>', Subject: 'hi' }, 'hello');
    expect(await symbolsOf(raw)).toEqual(['IMPERSONATION_VIP_NAME']);
  });

  it("emits IMPERSONATION_ORG_NAME for the organisation's name from outside", async () => {
    const raw = eml({ From: '"Example Corp Payroll" <payroll@elsewhere.example>', Subject: 'hi' }, 'hello');
    expect(await symbolsOf(raw)).toEqual(['IMPERSONATION_ORG_NAME']);
  });

  it('emits IMPERSONATION_LOOKALIKE_DOMAIN for a homoglyph and a TLD swap of a protected domain', async () => {
    const [homoglyph] = await scan(fixture('lookalike-sender-domain.eml'));
    expect(homoglyph).toEqual({
      symbol: 'IMPERSONATION_LOOKALIKE_DOMAIN',
      evidence: 'From examp1e.com is a homoglyph of example.com',
    });
    const [swap] = await scan(fixture('tld-swap-sender-domain.eml'));
    expect(swap?.evidence).toBe('From example.co is a tld-swap of example.com');
  });

  it('leaves related domains of the organisation alone', async () => {
    expect(await symbolsOf(eml({ From: 'it@example.org', Subject: 'hi' }, 'hello'))).toEqual([]);
  });

  it('emits IMPERSONATION_BEC_REQUEST and IMPERSONATION_REPLY_TO_FREEMAIL for a bank-change letter', async () => {
    const findings = await scan(fixture('bank-change-bec.eml'));
    expect(findings.map((f) => f.symbol).sort()).toEqual([
      'IMPERSONATION_BEC_REQUEST',
      'IMPERSONATION_REPLY_TO_FREEMAIL',
    ]);
    expect(findings.find((f) => f.symbol === 'IMPERSONATION_BEC_REQUEST')?.evidence).toBe(
      'updated bank details + make the payment',
    );
  });

  it('needs a combination for BEC: a gift card alone or payment words alone are ordinary', async () => {
    const alone = [
      'Thanks for the gift card, the kids loved it.',
      'The invoice is paid by bank transfer as usual.',
      'Please reply today if you can make the meeting.',
    ];
    for (const body of alone) {
      expect(await symbolsOf(eml({ From: 'a@elsewhere.example', Subject: 'note' }, body))).toEqual([]);
    }
    const together = eml(
      { From: 'a@elsewhere.example', Subject: 'favor' },
      'I need you to buy gift cards for a client, keep this between us.',
    );
    expect(await symbolsOf(together)).toEqual(['IMPERSONATION_BEC_REQUEST']);
  });

  it('does not flag mailing-list rewrites ("Name via List") whose Reply-To is a free mailbox', async () => {
    const raw = eml(
      {
        From: '"Ann Lee via Dev" <dev@lists.elsewhere.example>',
        'Reply-To': 'ann.lee@gmail.com',
        Subject: 'patch',
      },
      'patch attached',
    );
    expect(await symbolsOf(raw)).toEqual([]);
  });

  it('emits IMPERSONATION_NAME_ADDRESS when the display name shows another domain', async () => {
    const raw = eml({ From: '"service@paypal.com" <x@elsewhere.example>', Subject: 'hi' }, 'hello');
    expect(await symbolsOf(raw)).toEqual(['IMPERSONATION_NAME_ADDRESS']);
  });

  it('emits IMPERSONATION_RETURN_PATH_DIVERGES and _REPLY_TO_DIVERGES for our domain sent from elsewhere', async () => {
    const raw = eml({ From: 'ceo@example.com', 'Reply-To': 'ceo@elsewhere.example', Subject: 'hi' }, 'hello');
    const findings = await scan(raw, VIP_CONFIG, {
      mailFrom: 'bounce@elsewhere.example',
      recipients: ['bob@example.com'],
    });
    expect(findings.map((f) => f.symbol).sort()).toEqual([
      'IMPERSONATION_REPLY_TO_DIVERGES',
      'IMPERSONATION_RETURN_PATH_DIVERGES',
    ]);
  });
});

describe('becRequest', () => {
  it('gives what every pattern run on the text gives, combined as before', () => {
    // As first written: all four patterns run, then combined.
    const reference = (text: string) => {
      const bank = BANK_CHANGE.exec(text)?.[0];
      const gift = GIFT_CARD.exec(text)?.[0];
      const pay = PAYMENT.exec(text)?.[0];
      const pressure = PRESSURE.exec(text)?.[0];
      return bank && (pay || pressure)
        ? [bank, pay ?? pressure]
        : gift && pressure
          ? [gift, pressure]
          : pay && pressure
            ? [pay, pressure]
            : undefined;
    };
    const piece = fc.constantFrom(
      'new bank details',
      'our banking details have changed',
      'gift card',
      'e-gift',
      'itunes cards',
      'card',
      'gift',
      'wire transfer',
      'remittance',
      'urgent',
      'today',
      'asap',
      'please',
      'the',
      ' ',
      '.',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const text = pieces.join(' ');
        expect(becRequest(text)).toEqual(reference(text));
      }),
      { numRuns: 3000 },
    );
  });
});
