// Finds or starts the clamd the local runtime scans with: `antivirus.clamd` when configured, else the
// project's own clamd under <dataDir>/clamav (started by `seg av start`, or by `seg serve` itself).
// It never hides a missing engine: the status line says what happens to mail without one (AV_ERROR).

import { join } from 'node:path';
import { ClamdClient } from '../adapters/clamd/clamd-client.ts';
import { type ClamdDaemon, clamdFiles, findClamd, startClamd } from '../adapters/clamd/clamd-daemon.ts';
import type { SegConfig } from '../config/schema.ts';

/** The project's signature files (EICAR and seg's test signatures), built into every local database. */
export const SIGNATURES_DIR = join(import.meta.dirname, '..', '..', 'av', 'signatures');

/** Where the local clamd keeps its config, socket, pid, log and database. */
export const localClamdDir = (dataDir: string): string => join(dataDir, 'clamav');

export interface LocalAntivirus {
  readonly client: ClamdClient;
  /** True when clamd answered (or was started). */
  readonly running: boolean;
  /** One line for the terminal: where the engine is, or what happens without one. */
  readonly status: string;
  /** Set when this process started clamd: stop it on shutdown. */
  readonly owned?: ClamdDaemon;
}

/** The client for the configured clamd, or for the project's own under `dataDir`. */
export function localClamdClient(config: SegConfig, dataDir: string): ClamdClient {
  return new ClamdClient({
    address: config.antivirus.clamd ?? { path: clamdFiles(localClamdDir(dataDir)).socket },
    maxStreamBytes: config.antivirus.maxStreamBytes,
  });
}

/** Starts the project's clamd under `dataDir` (detached: it outlives this process until `seg av stop`). */
export function startLocalClamd(
  config: SegConfig,
  dataDir: string,
  options: { detached: boolean },
): Promise<ClamdDaemon> {
  return startClamd({
    dir: localClamdDir(dataDir),
    signatureDirs: [SIGNATURES_DIR],
    maxStreamBytes: config.antivirus.maxStreamBytes,
    detached: options.detached,
  });
}

const WITHOUT = 'every message will be held with AV_ERROR (antivirus fails closed)';

/**
 * Finds a running clamd; with `start` (seg serve, when antivirus.autoStart), starts the project's own
 * when none answers, clamd is installed and `antivirus.clamd` names no other server.
 */
export async function findOrStartClamd(
  config: SegConfig,
  dataDir: string,
  options: { start: boolean },
): Promise<LocalAntivirus> {
  const client = localClamdClient(config, dataDir);
  if (await client.ping()) {
    return { client, running: true, status: `clamd at ${client.address} (${await client.version()})` };
  }
  if (config.antivirus.clamd) {
    return { client, running: false, status: `NO ENGINE: nothing answers at ${client.address}; ${WITHOUT}` };
  }
  if (!options.start || !config.antivirus.autoStart) {
    return {
      client,
      running: false,
      status: `NO ENGINE: no clamd at ${client.address} (start one with \`npx seg av start\`); ${WITHOUT}`,
    };
  }
  if (!findClamd()) {
    return {
      client,
      running: false,
      status: `NO ENGINE: ClamAV is not installed (apt-get install clamav-daemon); ${WITHOUT}`,
    };
  }
  const owned = await startLocalClamd(config, dataDir, { detached: false });
  return {
    client: owned.client,
    running: true,
    owned,
    status: `clamd at ${owned.client.address} (${await owned.client.version()}), started for this run`,
  };
}
