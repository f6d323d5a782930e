// Shared test helpers for the engine: fixtures, a config, a zone-backed DNS resolver, scan contexts.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseConfig } from '../../lambdas/config/load-config.ts';
import type { SegConfig } from '../../lambdas/config/schema.ts';
import { DEFAULT_LIMITS, parseMessage } from '../../lambdas/engine/parse.ts';
import { offlineResolver } from '../../lambdas/engine/scan-message.ts';
import type { ScanContext } from '../../lambdas/engine/scanner.ts';
import type { Envelope, ScanInput, SesVerdicts } from '../../lambdas/engine/types.ts';
import type { DnsResolver } from '../../lambdas/ports/index.ts';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'engine');

export function fixture(name: string): Buffer {
  return readFileSync(join(FIXTURES, name));
}

/**
 * A valid config with one protected domain and optional overrides. Fixtures send from example.org and
 * example.net, which IANA holds with example.com: they are related domains, not look-alikes.
 */
export function testConfig(over: Record<string, unknown> = {}): SegConfig {
  return parseConfig({
    domains: [{ name: 'example.com', route: { host: '127.0.0.1', port: 587 } }],
    ...over,
    detection: { relatedDomains: ['example.org', 'example.net'], ...(over['detection'] as object) },
  });
}

/** A DNS zone as an object: name -> rrtype -> answer, served with dns.promises.resolve's shape. */
export function zoneResolver(zone: Record<string, Record<string, unknown>>): DnsResolver {
  return async (name, rrtype) => {
    const answer = zone[name.toLowerCase()]?.[rrtype];
    if (answer === undefined)
      throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    return answer;
  };
}

export async function inputFrom(
  raw: Uint8Array | string,
  extra: { envelope?: Envelope; ses?: SesVerdicts } = {},
): Promise<ScanInput> {
  const bytes = typeof raw === 'string' ? Buffer.from(raw) : raw;
  const parsed = await parseMessage(bytes, DEFAULT_LIMITS);
  return {
    raw: bytes,
    parsed,
    envelope: extra.envelope ?? { mailFrom: parsed.from?.address ?? '', recipients: parsed.to },
    ...(extra.ses ? { ses: extra.ses } : {}),
  };
}

export function ctxFrom(
  config: SegConfig = testConfig(),
  resolver: DnsResolver = offlineResolver,
): ScanContext {
  return {
    policy: config.policy,
    lists: config.lists,
    attachments: config.attachments,
    limits: config.limits,
    protectedDomains: config.domains.map((d) => d.name),
    dlp: config.dlp,
    outbound: config.outbound,
    resolver,
    detection: config.detection,
    signal: new AbortController().signal,
  };
}

/** A plain message as a string, CRLF line ends. */
export function eml(headers: Record<string, string>, body: string): string {
  const h = Object.entries(headers).map(([k, v]) => `${k}: ${v}`);
  return `${[...h, 'MIME-Version: 1.0', ''].join('\r\n')}\r\n${body.replace(/\r?\n/g, '\r\n')}`;
}

// Html pieces that exercise what a text conversion must agree on (blocks, tables, lists, links,
// images, entities, comments, hidden and unclosed elements), for property tests.
const HTML_PIECES = [
  '<p>Dear customer, your account</p>',
  '<table><tr><th>Item</th><th>Price</th></tr><tr><td>Box</td><td>$ 5</td></tr></table>',
  '<ul><li>one<li>two</ul><ol><li>first</li></ol>',
  '<h1>Notice</h1><h3>small</h3>',
  '<a href="https://example.org/login?x=1">Sign in</a> <a href="mailto:a@example.org">mail</a>',
  '<img src="cid:logo@x" alt="logo"><img src="https://example.org/p.gif">',
  'line<br>break<br/>again<hr>',
  '&amp; &nbsp; &#169; &eacute; &lt;tag&gt;',
  '<!-- a comment <div> -->',
  '<div style="display:none">hidden words</div>',
  '<b>bold <i>italic</b> unclosed',
  '<blockquote>quoted text</blockquote>',
  '<style>p { color: red }</style><script>var a = 1;</script>',
  '<html><head><title>t</title></head><body><div><div><span>deep</span></div></div></body></html>',
];

/** Html bodies of one to eight pieces (HTML_PIECES and `extra`), a line apart. */
export function generatedHtml(extra: readonly string[] = []): fc.Arbitrary<string> {
  return fc
    .array(fc.constantFrom(...HTML_PIECES, ...extra), { minLength: 1, maxLength: 8 })
    .map((parts) => parts.join('\n'));
}
