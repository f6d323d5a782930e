// SES limits, checked before sending so the sender gets a clear reason instead of an SES error later:
// SESv2 SendEmail takes at most 40 MB, every From/Sender/Return-Path address must be a verified
// identity, and SES refuses some attachment types outright. (50 recipients per call is not a
// limit on the message: Send splits the recipients into batches.)

import type { Scanner } from '../scanner.ts';
import type { Finding, ParsedMessage } from '../types.ts';

/** SESv2 SendEmail's maximum message size, after encoding. */
export const SES_MAX_MESSAGE_BYTES = 40 * 1024 * 1024;

/** Extensions SES refuses to send (its "unsupported attachment types" list). */
export const SES_BLOCKED_EXTENSIONS: ReadonlySet<string> = new Set(
  (
    'ade adp app asp bas bat cer chm cmd com cpl crt csh der exe fxp gadget hlp hta inf ins isp its js ' +
    'jse ksh lib lnk mad maf mag mam maq mar mas mat mau mav maw mda mdb mde mdt mdw mdz msc msh msh1 ' +
    'msh2 mshxml msh1xml msh2xml msi msp mst ops pcd pif plg prf prg reg scf scr sct shb shs sys ps1 ' +
    'ps1xml ps2 ps2xml psc1 psc2 tmp url vb vbe vbs vps vsmacros vss vst vsw vxd ws wsc wsf wsh xnk'
  ).split(' '),
);

const addressOf = (value: string): string | undefined =>
  (/<([^<>\s]+@[^<>\s]+)>/.exec(value)?.[1] ?? /([^\s<>,;"]+@[^\s<>,;"]+)/.exec(value)?.[1])?.toLowerCase();

/** True when `address` is an identity or lies in an identity domain (identities: domains or addresses). */
export function verifiedBy(address: string, identities: readonly string[]): boolean {
  const a = address.toLowerCase();
  const domain = a.slice(a.lastIndexOf('@') + 1);
  return identities.some((i) => {
    const id = i.toLowerCase();
    return id.includes('@') ? id === a : id === domain || domain.endsWith(`.${id}`);
  });
}

/**
 * Why SES would refuse to send this message, one reason each (empty: SES takes it). `identities` are
 * the verified SES identities (domains or addresses). Release runs the same check before sending.
 */
export function sesLimitProblems(
  raw: Uint8Array,
  parsed: Pick<ParsedMessage, 'headers' | 'attachments'>,
  identities: readonly string[],
): string[] {
  const problems: string[] = [];
  if (raw.byteLength > SES_MAX_MESSAGE_BYTES)
    problems.push(`message is ${raw.byteLength} bytes; SES sends at most ${SES_MAX_MESSAGE_BYTES}`);
  for (const name of ['from', 'sender', 'return-path']) {
    for (const [, value] of parsed.headers.filter(([n]) => n === name)) {
      const address = addressOf(value);
      if (address && !verifiedBy(address, identities))
        problems.push(`${name} ${address} is not a verified SES identity`.slice(0, 300));
    }
  }
  if (!parsed.headers.some(([n]) => n === 'from')) problems.push('no From header; SES needs one');
  for (const a of parsed.attachments) {
    const ext = (a.filename ?? '').toLowerCase().match(/\.([a-z0-9]+)$/)?.[1];
    if (ext && SES_BLOCKED_EXTENSIONS.has(ext))
      problems.push(`attachment ${a.filename?.slice(0, 100)}: SES does not send .${ext} files`);
  }
  return problems;
}

/** The identities From may use: `outbound.identities`, or else the protected domains. */
export const sendingIdentities = (
  outbound: { readonly identities: readonly string[] } | undefined,
  protectedDomains: readonly string[],
): readonly string[] => (outbound && outbound.identities.length > 0 ? outbound.identities : protectedDomains);

export const sesLimits: Scanner = {
  name: 'ses-limits',
  family: 'OUTBOUND',
  async scan({ raw, parsed }, ctx) {
    const identities = sendingIdentities(ctx.outbound, ctx.protectedDomains);
    return sesLimitProblems(raw, parsed, identities).map(
      (evidence): Finding => ({ symbol: 'OUTBOUND_SES_LIMIT', evidence }),
    );
  },
};
