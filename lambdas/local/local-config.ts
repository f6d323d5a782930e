// Which configuration the local runtime and the CLI use: the file given, else ./seg.config.json when
// present, else the embedded defaults. Validation errors list every problem (ConfigError).

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { EMBEDDED_DEFAULT_CONFIG, loadConfig, parseConfig } from '../config/load-config.ts';
import type { SegConfig } from '../config/schema.ts';

/** The default configuration file, looked up in the working directory. */
export const DEFAULT_CONFIG_FILE = 'seg.config.json';

export interface LocalConfig {
  readonly config: SegConfig;
  /** The file read, or 'embedded defaults'. */
  readonly source: string;
}

export function loadLocalConfig(file?: string): LocalConfig {
  if (file) return { config: loadConfig(file), source: resolve(file) };
  if (existsSync(DEFAULT_CONFIG_FILE))
    return { config: loadConfig(DEFAULT_CONFIG_FILE), source: resolve(DEFAULT_CONFIG_FILE) };
  return { config: parseConfig(EMBEDDED_DEFAULT_CONFIG, 'embedded defaults'), source: 'embedded defaults' };
}
