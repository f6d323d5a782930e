// Parse: loads the raw message, parses it with the configured limits and returns a bounded summary
// into the workflow state (the connecting client, From, Subject, problems). It stores nothing: the
// scanners that read the parsed message parse again. Bad mail is not an error (it gets a verdict);
// an unreadable object is.

import { parseMessage } from '../engine/parse.ts';
import type { ParsedMessage } from '../engine/types.ts';
import type { ParseSummary, WorkflowInput } from '../ports/index.ts';
import type { HandlerDeps } from './deps.ts';
import { loadRequired } from './support.ts';

/** The summary travels in the workflow state (256 KB in all), so it is capped: about 3 KB at most. */
const MAX_SUMMARY_PROBLEMS = 10;
const MAX_PROBLEM_CHARS = 200;
/** The quarantine item's sender and subject fields hold 500 characters. */
const MAX_FIELD_CHARS = 500;

export function createParseHandler(deps: Pick<HandlerDeps, 'config' | 'store'>) {
  return async (input: WorkflowInput): Promise<ParseSummary> => {
    const raw = await loadRequired(deps.store, input.key);
    const parsed = await parseMessage(raw, deps.config.limits);
    const from = parsed.from?.address;
    return {
      sizeBytes: parsed.sizeBytes,
      truncated: parsed.truncated,
      problems: parsed.problems.slice(0, MAX_SUMMARY_PROBLEMS).map((p) => p.slice(0, MAX_PROBLEM_CHARS)),
      ...connectionFrom(parsed),
      ...(from ? { from: from.slice(0, MAX_FIELD_CHARS) } : {}),
      subject: parsed.subject.slice(0, MAX_FIELD_CHARS),
    };
  };
}

/**
 * The connecting client from the topmost Received header, which SES (and the local listener) adds as
 * `from HELO (rdns [IP]) by ...`. Lower Received headers were written by others and are not trusted.
 */
export function connectionFrom(parsed: Pick<ParsedMessage, 'headers'>): { remoteIp?: string; helo?: string } {
  const top = parsed.headers.find(([name]) => name === 'received')?.[1];
  if (!top) return {};
  const value = top.replace(/\s+/g, ' ').trim();
  const match = /^from (\S+)(?: \(([^)]*)\))?/i.exec(value);
  if (!match) return {};
  const ip = /\[(?:IPv6:)?([0-9a-f:.]+)\]/i.exec(match[2] ?? '')?.[1];
  // A HELO name is at most a 255-character domain; more is not one, and the state stays bounded.
  return { helo: (match[1] ?? '').slice(0, 255), ...(ip ? { remoteIp: ip } : {}) };
}
