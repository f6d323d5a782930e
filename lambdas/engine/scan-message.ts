// The whole engine in one call: parse once, run every scanner group, decide. Used by `seg scan`,
// `seg eval` and tests; the workflow runs the same pieces split across its Parse/Scan/Decide states.
// It does no I/O of its own: DNS comes through the injected resolver (offline by default).

import type { SegConfig } from '../config/schema.ts';
import type { AntivirusEngine, DnsResolver } from '../ports/index.ts';
import { decide } from './decide.ts';
import type { UrlFeeds } from './feeds.ts';
import { parseMessage } from './parse.ts';
import { runScanners } from './run-scanners.ts';
import type { Scanner } from './scanner.ts';
import { ALL_SCANNERS } from './scanners/index.ts';
import type { Envelope, ParsedMessage, ScanResult, SesVerdicts, Verdict } from './types.ts';

/**
 * A resolver that answers every lookup with ENOTFOUND, so nothing touches the network. The error is
 * marked `offline: true`, which the auth scanner reports as temperror (0 points) rather than "none".
 */
export const offlineResolver: DnsResolver = async (name, rrtype) => {
  // Without a stack: mailauth asks several times per message and reads only the code and the message,
  // and capturing the async stack was a large part of what SPF and DMARC cost offline.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  const err = new Error(`queryDns ENOTFOUND ${name} (${rrtype}): DNS is offline`);
  Error.stackTraceLimit = limit;
  throw Object.assign(err, {
    code: 'ENOTFOUND',
    hostname: name,
    offline: true,
  });
};

/** The envelope a stored message implies when none was recorded: header From as MAIL FROM, To/Cc as recipients. */
export function envelopeFromHeaders(parsed: ParsedMessage): Envelope {
  return { mailFrom: parsed.from?.address ?? '', recipients: parsed.to };
}

/** Parses, scans with every registered scanner and decides. Never throws on bad mail. */
export async function scanMessage(
  raw: Uint8Array,
  opts: {
    config: SegConfig;
    envelope?: Envelope;
    ses?: SesVerdicts;
    resolver?: DnsResolver;
    /** The scanner set (default: every registered scanner); `seg eval --model` swaps the classifier. */
    scanners?: readonly Scanner[];
    feeds?: UrlFeeds;
    /** Without one the antivirus scanner reports nothing (`seg scan --no-av`). */
    antivirus?: AntivirusEngine;
  },
): Promise<{ parsed: ParsedMessage; results: ScanResult[]; verdict: Verdict }> {
  const { config } = opts;
  const parsed = await parseMessage(raw, config.limits);
  const envelope = opts.envelope ?? envelopeFromHeaders(parsed);
  const results = await runScanners(
    opts.scanners ?? ALL_SCANNERS,
    { raw, parsed, envelope, ...(opts.ses ? { ses: opts.ses } : {}) },
    {
      policy: config.policy,
      lists: config.lists,
      attachments: config.attachments,
      limits: config.limits,
      protectedDomains: config.domains.map((d) => d.name.toLowerCase()),
      resolver: opts.resolver ?? offlineResolver,
      detection: config.detection,
      ...(opts.feeds ? { feeds: opts.feeds } : {}),
      ...(opts.antivirus ? { antivirus: opts.antivirus } : {}),
    },
  );
  return { parsed, results, verdict: decide(results, config.policy) };
}
