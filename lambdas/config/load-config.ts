// Loads and validates seg.config.json. An invalid file fails with every problem listed.

import { readFileSync } from 'node:fs';
import { ConfigSchema, type SegConfig } from './schema.ts';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`invalid configuration in ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Validates an already-read configuration object. */
export function parseConfig(value: unknown, source = 'configuration'): SegConfig {
  const result = ConfigSchema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const where = issue.path.length ? issue.path.join('.') : '(top level)';
    return `${where}: ${issue.message}`;
  });
  throw new ConfigError(source, problems);
}

/** Reads and validates a config file. */
export function loadConfig(path: string): SegConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(path, [`cannot read file: ${(cause as Error).message}`]);
  }
  let json: unknown;
  try {
    // A UTF-8 byte order mark (Windows editors add one) is not JSON but says nothing: drop it.
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (cause) {
    throw new ConfigError(path, [`not valid JSON: ${(cause as Error).message}`]);
  }
  return parseConfig(json, path);
}

/**
 * The configuration `seg serve` and `seg scan` use when no file is given: one protected domain. IANA
 * holds example.com, .net and .org alike, so the other two are related domains, not look-alikes.
 */
export const EMBEDDED_DEFAULT_CONFIG = {
  domains: [{ name: 'example.com', route: { host: '127.0.0.1', port: 587 } }],
  detection: { relatedDomains: ['example.net', 'example.org'] },
} as const;
