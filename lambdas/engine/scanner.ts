// What a scanner is. A scanner is one small module with one job: it reads the ScanInput and
// returns findings. It never throws on bad mail; runScanners() turns a thrown error or a
// timeout into the family's _ERROR symbol.

import type {
  Attachments,
  Detection,
  DlpConfig,
  Limits,
  Lists,
  OutboundConfig,
  Policy,
} from '../config/schema.ts';
import type { AntivirusEngine, DnsResolver } from '../ports/index.ts';
import type { UrlFeeds } from './feeds.ts';
import type { Family } from './symbols.ts';
import type { Finding, RawScanInput, ScanInput } from './types.ts';

export interface ScanContext {
  readonly policy: Policy;
  readonly lists: Lists;
  /** Attachment extraction limits and the blocked-type list. */
  readonly attachments: Attachments;
  /** The MIME limits parse applies (extraction re-reads the raw message within them). */
  readonly limits: Limits;
  /** Domains the gateway protects (lowercase). */
  readonly protectedDomains: readonly string[];
  /** DNS for SPF/DKIM/DMARC; tests and `seg scan --offline` inject a zone. */
  readonly resolver: DnsResolver;
  /** DLP rules and limits (outbound scanners); the defaults apply when absent. */
  readonly dlp?: DlpConfig;
  /** Outbound settings (verified identities for the SES limits check). */
  readonly outbound?: OutboundConfig;
  /** VIPs, organisation names, DNS blocklist zones (config `detection`); absent means none. */
  readonly detection?: Detection;
  /** Known-bad URLs and domains from local feed files, loaded once per process; absent means none. */
  readonly feeds?: UrlFeeds;
  /**
   * The antivirus engine (clamd). The gateway always injects one (a dead one yields AV_ERROR); only
   * runtimes that chose to scan without antivirus (`seg scan --av off`, `seg eval`) leave it out.
   */
  readonly antivirus?: AntivirusEngine;
  /** Aborted when the scanner's time is up. */
  readonly signal: AbortSignal;
}

interface ScannerBase {
  readonly name: string;
  readonly family: Family;
}

/** A scanner that reads the parsed message (the default). */
export interface ParsedScanner extends ScannerBase {
  readonly reads?: 'parsed';
  scan(input: ScanInput, ctx: ScanContext): Promise<readonly Finding[]>;
}

/**
 * A scanner that reads only the raw bytes, the envelope and SES's verdicts. A workflow step whose
 * scanners are all raw-only skips parsing (see needsParse): parsing is most of a small step's time.
 */
export interface RawScanner extends ScannerBase {
  readonly reads: 'raw';
  scan(input: RawScanInput, ctx: ScanContext): Promise<readonly Finding[]>;
}

export type Scanner = ParsedScanner | RawScanner;

/** Whether any of `scanners` reads the parsed message. */
export const needsParse = (scanners: readonly Scanner[]): boolean => scanners.some((s) => s.reads !== 'raw');
