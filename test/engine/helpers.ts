// Shared test helpers for the engine: fixtures, a config, a zone-backed DNS resolver, scan contexts.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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
