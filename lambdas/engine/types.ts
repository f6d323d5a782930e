// Data contracts of the engine: the parsed message, findings and the verdict.
// Plain JSON-serialisable shapes, because they cross Lambda and Step Functions boundaries.

import type { Family, SymbolName } from './symbols.ts';

export const ACTIONS = ['deliver', 'tag', 'quarantine', 'reject'] as const;
export type Action = (typeof ACTIONS)[number];

/** One thing a scanner noticed. `weight` is filled from the symbol table unless the scanner overrides it. */
export interface Finding {
  readonly symbol: SymbolName;
  /** Points this finding adds; decide() applies policy overrides. */
  readonly weight?: number;
  /** Short human-readable evidence, e.g. the offending URL. At most a few hundred characters. */
  readonly evidence?: string;
  /** The file the finding is about, for attachment and antivirus findings. */
  readonly file?: FileRef;
}

/** A file as findings name it: as the sender named it, its true type, its sha256, where it sat. */
export interface FileRef {
  readonly name: string;
  /** True type by magic bytes (file-type's extension), or 'unknown'. */
  readonly type: string;
  /** Full hex sha256 of the file's bytes. */
  readonly sha256: string;
  /** Containers from the outermost ([] for a top-level attachment). */
  readonly path: readonly string[];
}

/** What one scanner returned, with how long it took. */
export interface ScanResult {
  readonly scanner: string;
  readonly family: Family;
  readonly findings: readonly Finding[];
  readonly ms: number;
}

export interface Envelope {
  /** SMTP MAIL FROM (may be empty for bounces). */
  readonly mailFrom: string;
  /** SMTP RCPT TO: the recipients we relay to, never the header To/Cc. */
  readonly recipients: readonly string[];
  /** Connecting client, when known (for SPF). */
  readonly remoteIp?: string;
  readonly helo?: string;
}

/** SES receipt verdicts, as delivered in the Lambda action event (receipt.*Verdict.status). */
export type SesVerdictStatus = 'PASS' | 'FAIL' | 'GRAY' | 'PROCESSING_FAILED' | 'DISABLED';
export interface SesVerdicts {
  readonly spam?: SesVerdictStatus;
  readonly virus?: SesVerdictStatus;
  readonly spf?: SesVerdictStatus;
  readonly dkim?: SesVerdictStatus;
  readonly dmarc?: SesVerdictStatus;
  /** Only present when DMARC failed: the domain's policy. */
  readonly dmarcPolicy?: 'NONE' | 'QUARANTINE' | 'REJECT';
}

export interface ParsedAttachment {
  readonly filename?: string;
  readonly contentType: string;
  readonly size: number;
}

/** Where a link was found: an HTML element (a, area, img, script, iframe, form, meta refresh), CSS url(), or text. */
export type LinkSource = 'a' | 'area' | 'img' | 'script' | 'iframe' | 'form' | 'meta' | 'css' | 'text';

export interface ParsedLink {
  readonly href: string;
  /** Visible text of the anchor, when the link came from HTML. */
  readonly text?: string;
  /** Where the link was found (absent in parses stored before sources were recorded). */
  readonly source?: LinkSource;
  /** A form whose fields include a password input. */
  readonly password?: true;
  /** The HTML attachment the link came from (absent for the message body). */
  readonly attachment?: string;
}

/** The message parsed once, with limits applied. Bodies are capped; `problems` lists what went wrong. */
export interface ParsedMessage {
  readonly from?: { readonly address?: string; readonly name?: string };
  readonly to: readonly string[];
  readonly subject: string;
  readonly messageId?: string;
  readonly date?: string;
  /** Header lines as [lowercase name, raw value], in order. */
  readonly headers: readonly (readonly [string, string])[];
  /** The text parts; a message with html and no text of its own has its html's text here. */
  readonly text: string;
  readonly html: string;
  readonly links: readonly ParsedLink[];
  /** What the html shows and hides (absent without html). */
  readonly htmlStats?: {
    readonly visibleChars: number;
    readonly hiddenChars: number;
    readonly images: number;
    readonly hiddenSample?: string;
  };
  /** Links seen before deduplication (links holds the first MAX_LINKS, then one per new host). */
  readonly linkCount?: number;
  readonly attachments: readonly ParsedAttachment[];
  readonly sizeBytes: number;
  /** True when a limit cut something (size, parts, depth, body length). */
  readonly truncated: boolean;
  /** Parse problems, e.g. 'malformed MIME', 'unreadable part 3'. Empty for a clean parse. */
  readonly problems: readonly string[];
  /** True when the message has an HTML body and no text/plain part (the text was derived from HTML). */
  readonly htmlOnly?: boolean;
}

/** What a raw-only scanner looks at: the bytes (DKIM, antivirus, attachment extraction), no parse. */
export interface RawScanInput {
  readonly raw: Uint8Array;
  readonly envelope: Envelope;
  readonly ses?: SesVerdicts;
}

/** Everything a scanner may look at. The raw bytes are there for DKIM and antivirus. */
export interface ScanInput extends RawScanInput {
  readonly parsed: ParsedMessage;
}

export interface ScoredFinding extends Finding {
  readonly weight: number;
  readonly family: Family;
}

/** The decision and everything needed to explain it: this is the message trace. */
export interface Verdict {
  readonly action: Action;
  readonly score: number;
  /** Symbols in descending weight order. */
  readonly symbols: readonly SymbolName[];
  readonly findings: readonly ScoredFinding[];
  /** One line a person can read: why this action. */
  readonly reason: string;
  readonly policyVersion: string;
  readonly timings: Readonly<Record<string, number>>;
}
