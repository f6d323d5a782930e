// The antivirus Lambda's engine: starts clamd on first use with the definitions freshclam last stored
// (av-definitions/ in the message bucket) plus the project's signatures, and checks for newer ones at
// most once an hour, reloading clamd when the manifest changed. Works over any MessageStore.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AntivirusUnavailableError } from '../../errors.ts';
import { KEYS } from '../../handlers/deps.ts';
import { loadOptionalJson } from '../../handlers/support.ts';
import type {
  AntivirusEngine,
  AntivirusVerdict,
  Clock,
  DefinitionsManifest,
  MessageStore,
} from '../../ports/index.ts';
import { type ClamdDaemon, clamdFiles, startClamd } from './clamd-daemon.ts';

/** freshclam's CDN asks clients not to check more than hourly; the definitions change a few times a day. */
export const DEFINITIONS_REFRESH_MS = 60 * 60_000;

/** Only plain file names, so a manifest cannot write outside the database folder. */
const SAFE_FILE =
  /^[A-Za-z0-9._-]+\.(cvd|cld|cud|ndb|hdb|hsb|ldb|mdb|msb|fp|sfp|ign2|ftm|cdb|pdb|wdb|idb|cat|crb)$/;

export interface RefreshingClamdOptions {
  readonly store: MessageStore;
  /** Folder for clamd's files and database (in Lambda, under /tmp). */
  readonly dir: string;
  /** The project's own signature files, always loaded. */
  readonly signatureDirs: readonly string[];
  readonly clock: Clock;
  /**
   * Without official definitions clamd would only know the test signatures: refuse to answer (AV_ERROR,
   * fail closed) until the updater has stored some.
   * @default true
   */
  readonly requireDefinitions?: boolean;
  /** @default DEFINITIONS_REFRESH_MS */
  readonly refreshMs?: number;
}

export class RefreshingClamd implements AntivirusEngine {
  readonly address: string;
  readonly maxBytes: number;
  private daemon?: ClamdDaemon;
  private starting?: Promise<ClamdDaemon>;
  private definitionsVersion = '';
  private checkedAt = 0;

  constructor(private readonly options: RefreshingClamdOptions) {
    this.address = `unix:${clamdFiles(options.dir).socket}`;
    this.maxBytes = 25 * 1024 * 1024;
  }

  async scan(bytes: Uint8Array, name: string, signal?: AbortSignal): Promise<AntivirusVerdict> {
    const daemon = await this.ready();
    return daemon.client.scan(bytes, name, signal);
  }

  async version(): Promise<string> {
    return (await this.ready()).client.version();
  }

  /** The running daemon, started (or reloaded with newer definitions) as needed. */
  async ready(): Promise<ClamdDaemon> {
    if (!this.daemon) {
      this.starting ??= this.start().finally(() => {
        this.starting = undefined;
      });
      this.daemon = await this.starting;
      return this.daemon;
    }
    if (
      this.options.clock().getTime() - this.checkedAt >=
      (this.options.refreshMs ?? DEFINITIONS_REFRESH_MS)
    ) {
      this.checkedAt = this.options.clock().getTime();
      if (await this.pull()) await this.daemon.client.reload();
    }
    return this.daemon;
  }

  async stop(): Promise<void> {
    await this.daemon?.stop();
    this.daemon = undefined;
  }

  private async start(): Promise<ClamdDaemon> {
    this.checkedAt = this.options.clock().getTime();
    const pulled = await this.pull();
    if (!pulled && !this.definitionsVersion && (this.options.requireDefinitions ?? true)) {
      throw new AntivirusUnavailableError(
        `no antivirus definitions at ${KEYS.avManifest} yet: run the av-definitions function once`,
      );
    }
    return startClamd({
      dir: this.options.dir,
      signatureDirs: this.options.signatureDirs,
      maxStreamBytes: this.maxBytes,
    });
  }

  /** Downloads the stored definitions when their manifest changed. True when it wrote new files. */
  private async pull(): Promise<boolean> {
    // No manifest yet: keep what we have; start() decides whether that is enough.
    const manifest = await loadOptionalJson<DefinitionsManifest>(this.options.store, KEYS.avManifest);
    if (!manifest) return false;
    if (manifest.version === this.definitionsVersion) return false;
    const database = clamdFiles(this.options.dir).database;
    await mkdir(database, { recursive: true });
    for (const file of manifest.files) {
      if (!SAFE_FILE.test(file)) throw new AntivirusUnavailableError(`manifest names a bad file: ${file}`);
      await writeFile(join(database, file), await this.options.store.get(KEYS.avDefinitions(file)));
    }
    this.definitionsVersion = manifest.version;
    return true;
  }
}
