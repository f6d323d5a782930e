// Impersonation and business email compromise: a configured VIP's or the organisation's name on mail
// from outside, sender domains that imitate a protected domain, replies steered elsewhere, and the
// payment / gift card / bank-change requests of BEC (which need a combination, never one word).
// It reads headers and the start of the text only; authentication results are the auth scanner's job.

import { getDomain } from 'tldts';
import { lookalikeOfProtected } from '../lookalike.ts';
import { phraseText } from '../phrase-text.ts';
import type { Scanner } from '../scanner.ts';
import type { Finding } from '../types.ts';

// BEC letters are short and put the request up front; this bounds the work too.
const READ_CHARS = 4000;

// Free mailbox providers: a reply steered to one of them, away from a company sender, is a BEC tell.
const FREEMAIL = new Set([
  'gmail.com',
  'googlemail.com',
  'yahoo.com',
  'ymail.com',
  'outlook.com',
  'hotmail.com',
  'live.com',
  'msn.com',
  'aol.com',
  'icloud.com',
  'me.com',
  'mail.com',
  'gmx.com',
  'gmx.net',
  'proton.me',
  'protonmail.com',
  'yandex.com',
  'yandex.ru',
  'zoho.com',
  'mail.ru',
  'qq.com',
  '163.com',
]);

// BEC request patterns. Each alone is ordinary business language; the rule needs two kinds together.
export const BANK_CHANGE =
  /\b(?:(?:new|updated?|changed?|change (?:of|in|to)|update (?:of|to))\s+(?:our\s+|my\s+|the\s+|your\s+)?(?:bank(?:ing)?|account|payment|remittance|wire|direct deposit)\s+(?:details|information|info|instructions)|bank(?:ing)? (?:details|account|information) (?:has|have) (?:been |now )?changed|(?:change|update|switch) (?:my|the) (?:direct deposit|payroll (?:account|details)))\b/;
export const GIFT_CARD =
  /\b(?:gift ?cards?|itunes cards?|google play cards?|steam (?:gift )?cards?|apple cards?|e-?gift)\b/;
export const PAYMENT =
  /\b(?:wire transfer|bank transfer|(?:make|process|send|arrange|complete) (?:a |the |an )?(?:urgent )?(?:payment|wire|transfer)|outstanding (?:invoice|payment|balance)|overdue (?:invoice|payment)|remittance|iban|swift code|routing number|(?:beneficiary|receiving) (?:bank|account))\b/;
export const PRESSURE =
  /\b(?:urgent(?:ly)?|asap|as soon as possible|right away|immediately|today|before (?:the )?end of (?:the )?day|confidential|discreet(?:ly)?|keep (?:this|it) between us|are you (?:available|at your desk|around|free)|i(?:'m| am) (?:in a meeting|busy|travell?ing|on a (?:call|flight))|can'?t (?:talk|take calls)|quick (?:favou?r|task|request)|scratch (?:off|the back)|send (?:me )?(?:the )?(?:codes|pictures|photos))\b/;

/** Lowercase words of a name, marks folded: "Doe, Jane (CEO)" -> ["doe", "jane", "ceo"]. */
function words(name: string): string[] {
  return name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

/** Whether a display name names this person: every word of the VIP's name appears, in any order. */
function namesPerson(display: readonly string[], vip: string): boolean {
  const want = words(vip);
  if (want.length === 0) return false;
  if (want.length === 1) return display.length === 1 && display[0] === want[0];
  return want.every((w) => display.includes(w));
}

/** Whether a display name contains the organisation's name as consecutive words. */
function namesOrganisation(display: readonly string[], org: string): boolean {
  const want = words(org).join(' ');
  return want.length > 0 && ` ${display.join(' ')} `.includes(` ${want} `);
}

/**
 * The two kinds of BEC request `text` makes, if it makes two: a bank change with a payment or
 * pressure, a gift card with pressure, or a payment with pressure. Each needs a payment or pressure,
 * so without one the other patterns are not run; a gift card is named with "gift" or "card".
 */
export function becRequest(text: string): [string, string] | undefined {
  const pay = PAYMENT.exec(text)?.[0];
  const pressure = PRESSURE.exec(text)?.[0];
  if (!pay && !pressure) return undefined;
  const bank = BANK_CHANGE.exec(text)?.[0];
  if (bank) return [bank, (pay ?? pressure)!];
  if (!pressure) return undefined;
  const gift = text.includes('gift') || text.includes('card') ? GIFT_CARD.exec(text)?.[0] : undefined;
  if (gift) return [gift, pressure];
  return pay ? [pay, pressure] : undefined;
}

const domainOf = (address: string): string => address.slice(address.lastIndexOf('@') + 1).toLowerCase();
const ADDRESS = /[^\s<>"',;:@]{1,64}@[a-z0-9.-]{1,253}\.[a-z]{2,63}/i;

/** The first address in a header value such as Reply-To or Return-Path. */
function addressIn(value: string | undefined): string | undefined {
  return value ? ADDRESS.exec(value)?.[0]?.toLowerCase() : undefined;
}

export const impersonation: Scanner = {
  name: 'impersonation',
  family: 'IMPERSONATION',
  async scan({ parsed, envelope }, ctx) {
    const out: Finding[] = [];
    const from = parsed.from?.address ?? '';
    const fromHost = domainOf(from);
    const fromDomain = getDomain(fromHost) ?? fromHost;
    const detection = ctx.detection;
    const own = new Set([...ctx.protectedDomains, ...(detection?.relatedDomains ?? [])]);
    const inside = from !== '' && (own.has(fromDomain) || own.has(fromHost));
    const display = words(parsed.from?.name ?? '');
    const shown = `"${(parsed.from?.name ?? '').slice(0, 60)}" <${from.slice(0, 100)}>`;

    if (!inside && display.length) {
      const vip = detection?.vips.find((v) => namesPerson(display, v.name) && !v.addresses.includes(from));
      if (vip) out.push({ symbol: 'IMPERSONATION_VIP_NAME', evidence: `${shown} names ${vip.name}` });
      const org = detection?.organizationNames.find((o) => namesOrganisation(display, o));
      if (org) out.push({ symbol: 'IMPERSONATION_ORG_NAME', evidence: `${shown} names ${org}` });
    }

    const replyTo = addressIn(parsed.headers.find(([n]) => n === 'reply-to')?.[1]);
    const replyDomain = replyTo ? (getDomain(domainOf(replyTo)) ?? domainOf(replyTo)) : undefined;
    for (const [who, domain] of [
      ['From', fromDomain],
      ['Reply-To', replyDomain],
    ] as const) {
      if (!domain || own.has(domain)) continue;
      const mimic = lookalikeOfProtected(domain, ctx.protectedDomains, true);
      if (mimic) {
        out.push({
          symbol: 'IMPERSONATION_LOOKALIKE_DOMAIN',
          evidence: `${who} ${domain} is a ${mimic.kind} of ${mimic.target}`,
        });
        break;
      }
    }

    // The display name itself carries an address at another domain: "service@paypal.com" <x@elsewhere>.
    const nameAddress = addressIn(parsed.from?.name);
    if (nameAddress && from && (getDomain(domainOf(nameAddress)) ?? domainOf(nameAddress)) !== fromDomain)
      out.push({ symbol: 'IMPERSONATION_NAME_ADDRESS', evidence: shown });

    if (replyDomain && fromDomain && replyDomain !== fromDomain) {
      // Mailing lists rewrite From to "Name via List" and put the author in Reply-To (DMARC mitigation).
      if (FREEMAIL.has(replyDomain) && !FREEMAIL.has(fromDomain) && !display.includes('via'))
        out.push({
          symbol: 'IMPERSONATION_REPLY_TO_FREEMAIL',
          evidence: `From ${from}, Reply-To ${replyTo}`,
        });
      else if (inside)
        out.push({
          symbol: 'IMPERSONATION_REPLY_TO_DIVERGES',
          evidence: `From ${from}, Reply-To ${replyTo}`,
        });
    }
    // Our own domain in From, with a bounce address outside it: a spoof unless DMARC says otherwise.
    const bounce = addressIn(parsed.headers.find(([n]) => n === 'return-path')?.[1]) ?? envelope.mailFrom;
    const bounceDomain = bounce ? (getDomain(domainOf(bounce)) ?? domainOf(bounce)) : '';
    if (inside && bounceDomain && !own.has(bounceDomain))
      out.push({
        symbol: 'IMPERSONATION_RETURN_PATH_DIVERGES',
        evidence: `From ${from}, Return-Path ${bounce}`,
      });

    const text = phraseText(`${parsed.subject}\n${parsed.text.slice(0, READ_CHARS)}`);
    const bec = becRequest(text);
    if (bec) out.push({ symbol: 'IMPERSONATION_BEC_REQUEST', evidence: bec.join(' + ') });
    return out;
  },
};
