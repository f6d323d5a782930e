// Parse: loads the raw message, parses it once with the configured limits and stores the parsed
// JSON for the scanners. Bad mail is not an error (it gets a verdict); an unreadable object is.

import { parseMessage } from '../engine/parse.ts';
import type { ParsedMessage } from '../engine/types.ts';
import type { ParseSummary, WorkflowInput } from '../ports/index.ts';
import { type HandlerDeps, KEYS } from './deps.ts';
import { loadRequired } from './support.ts';

/** Problems travel in the workflow state, so they are capped: the full list is in parsed/<id>.json. */
const MAX_SUMMARY_PROBLEMS = 10;
const MAX_PROBLEM_CHARS = 200;

export function createParseHandler(deps: Pick<HandlerDeps, 'config' | 'store'>) {
  return async (input: WorkflowInput): Promise<ParseSummary> => {
    const raw = await loadRequired(deps.store, input.key);
    const parsed = await parseMessage(raw, deps.config.limits);
    const parsedKey = KEYS.parsed(input.messageId);
    await deps.store.put(parsedKey, JSON.stringify(parsed), 'application/json');
    return {
      parsedKey,
      sizeBytes: parsed.sizeBytes,
      truncated: parsed.truncated,
      problems: parsed.problems.slice(0, MAX_SUMMARY_PROBLEMS).map((p) => p.slice(0, MAX_PROBLEM_CHARS)),
      ...connectionFrom(parsed),
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
  return { helo: match[1] ?? '', ...(ip ? { remoteIp: ip } : {}) };
}
