// Runs a clamd of our own: builds its signature database from the project's signature files (plus
// any definitions already in the folder, e.g. freshclam's), writes a clamd.conf listening on a unix
// socket (and optionally loopback TCP) under one folder, starts the daemon and waits for PONG.
// Used by `seg av start`, `seg serve`, the tests, and the antivirus Lambda at cold start.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { AntivirusUnavailableError } from '../../errors.ts';
import { ClamdClient, DEFAULT_STREAM_MAX_BYTES } from './clamd-client.ts';

/** Text signature formats clamd loads from a database folder (no signed .cvd needed). */
const SIGNATURE_EXTENSIONS = ['.ndb', '.hdb', '.hsb', '.ldb', '.mdb', '.msb', '.fp', '.sfp', '.ign2'];
/** With only test signatures clamd is up in well under a second; the official set takes ~20 s. */
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

export interface ClamdDaemonOptions {
  /** Folder for clamd.conf, the socket, the pid file, the log and (by default) the database. */
  readonly dir: string;
  /** Folders of text signature files copied into the database (the project's av/signatures). */
  readonly signatureDirs: readonly string[];
  /** @default <dir>/db */
  readonly databaseDir?: string;
  /** Also listen on 127.0.0.1:<tcpPort>. @default unix socket only */
  readonly tcpPort?: number;
  /** clamd's StreamMaxLength. @default 25 MiB */
  readonly maxStreamBytes?: number;
  /**
   * Leave clamd running after this process exits (`seg av start`); otherwise it is this process's
   * child and stops with it.
   * @default false
   */
  readonly detached?: boolean;
  /** @default SEG_CLAMD, else clamd on PATH or in /usr/sbin, /usr/local/sbin */
  readonly binary?: string;
}

export interface ClamdDaemon {
  readonly client: ClamdClient;
  readonly socketPath: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Runs clamd ($1 -c $2) and kills it when stdin reaches end of file; exits with clamd's code. */
// A background job's stdin is /dev/null in sh, so the watcher reads a copy of it (fd 3).
const WATCHDOG = 'exec 3<&0; "$1" -c "$2" & c=$!; (read _ignored <&3; kill "$c" 2>/dev/null) & wait "$c"';

/** The files a daemon keeps under its folder. */
export const clamdFiles = (dir: string) => ({
  config: join(dir, 'clamd.conf'),
  socket: join(dir, 'clamd.sock'),
  pid: join(dir, 'clamd.pid'),
  log: join(dir, 'clamd.log'),
  database: join(dir, 'db'),
});

/** The clamd executable, or undefined when ClamAV's daemon is not installed. */
export function findClamd(binary = process.env.SEG_CLAMD): string | undefined {
  if (binary) return existsSync(binary) ? binary : undefined;
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  return dirs.map((dir) => join(dir, 'clamd')).find((path) => path.startsWith('/') && existsSync(path));
}

/**
 * Copies every text signature file of `signatureDirs` into `databaseDir`. Returns how many files it
 * copied; throws when there are none (clamd refuses to start without a signature).
 */
export async function buildSignatureDatabase(
  signatureDirs: readonly string[],
  databaseDir: string,
): Promise<number> {
  await mkdir(databaseDir, { recursive: true });
  let copied = 0;
  for (const dir of signatureDirs) {
    for (const name of await readdir(dir)) {
      if (!SIGNATURE_EXTENSIONS.some((ext) => name.endsWith(ext))) continue;
      await copyFile(join(dir, name), join(databaseDir, name));
      copied++;
    }
  }
  if (!copied) throw new Error(`no signature files (${SIGNATURE_EXTENSIONS.join(' ')}) in ${signatureDirs}`);
  return copied;
}

function clamdConfig(options: ClamdDaemonOptions, databaseDir: string): string {
  const files = clamdFiles(options.dir);
  const maxStream = options.maxStreamBytes ?? DEFAULT_STREAM_MAX_BYTES;
  return [
    '# Written by seg (lambdas/adapters/clamd/clamd-daemon.ts); rewritten at every start.',
    `LocalSocket ${files.socket}`,
    'LocalSocketMode 600',
    'FixStaleSocket true',
    ...(options.tcpPort ? ['TCPAddr 127.0.0.1', `TCPSocket ${options.tcpPort}`] : []),
    `DatabaseDirectory ${databaseDir}`,
    `PidFile ${files.pid}`,
    `LogFile ${files.log}`,
    'LogTime true',
    `TemporaryDirectory ${options.dir}`,
    `Foreground ${options.detached ? 'false' : 'true'}`,
    // Mail and archives are what we scan; the limits keep a bomb bounded inside clamd too.
    'ScanMail true',
    'ScanArchive true',
    'ScanPDF true',
    'ScanOLE2 true',
    'ScanHTML true',
    `StreamMaxLength ${maxStream}`,
    `MaxScanSize ${Math.max(maxStream * 4, 100 * 1024 * 1024)}`,
    `MaxFileSize ${maxStream}`,
    'MaxRecursion 16',
    'MaxFiles 10000',
    'MaxThreads 4',
    'ReadTimeout 60',
    'CommandReadTimeout 10',
    'SelfCheck 3600',
    'ExtendedDetectionInfo true',
    '',
  ].join('\n');
}

/** Builds the database, writes clamd.conf and starts clamd; resolves once it answers PING. */
export async function startClamd(options: ClamdDaemonOptions): Promise<ClamdDaemon> {
  const binary = findClamd(options.binary);
  if (!binary) {
    throw new AntivirusUnavailableError(
      'clamd is not installed (Debian/Ubuntu: apt-get install clamav-daemon; or set SEG_CLAMD)',
    );
  }
  const files = clamdFiles(options.dir);
  const databaseDir = options.databaseDir ?? files.database;
  await mkdir(options.dir, { recursive: true });
  await buildSignatureDatabase(options.signatureDirs, databaseDir);
  await writeFile(files.config, clamdConfig(options, databaseDir));
  await rm(files.pid, { force: true });

  // An attached clamd must not outlive this process, even one killed with SIGKILL: a shell starts it
  // and kills it as soon as our end of its stdin closes (which the kernel does when we die).
  const child = options.detached
    ? spawn(binary, ['-c', files.config], { stdio: ['ignore', 'ignore', 'pipe'], detached: true })
    : spawn('/bin/sh', ['-c', WATCHDOG, 'seg-clamd', binary, files.config], {
        stdio: ['pipe', 'ignore', 'pipe'],
      });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-2000);
  });
  let exited: number | null | undefined;
  child.on('exit', (code) => {
    exited = code;
  });
  if (options.detached) child.unref();

  const client = new ClamdClient({
    address: { path: files.socket },
    ...(options.maxStreamBytes ? { maxStreamBytes: options.maxStreamBytes } : {}),
  });
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await client.ping())) {
    // A detached clamd forks and its first process exits 0: only a failure code means it died.
    if (exited !== undefined && exited !== 0) {
      const log = await readFile(files.log, 'utf8').catch(() => '');
      throw new AntivirusUnavailableError(
        `clamd exited with code ${exited}: ${(stderr || log).trim().split('\n').slice(-3).join(' | ')}`,
      );
    }
    if (Date.now() > deadline) {
      child.stdin?.end();
      child.kill();
      throw new AntivirusUnavailableError(
        `clamd did not answer within ${START_TIMEOUT_MS} ms (${files.log})`,
      );
    }
    await sleep(100);
  }
  const pid = await readPid(options.dir);
  if (options.detached) child.stderr?.destroy();
  return {
    client,
    socketPath: files.socket,
    pid,
    stop: async () => {
      await stopClamd(options.dir, pid);
      child.stdin?.end();
    },
  };
}

/** The pid of the clamd running for `dir`, when its pid file names a live process. */
export async function readPid(dir: string): Promise<number> {
  const text = await readFile(clamdFiles(dir).pid, 'utf8');
  const pid = Number.parseInt(text.trim(), 10);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`bad pid file ${clamdFiles(dir).pid}`);
  return pid;
}

/** Stops the clamd of `dir` (SIGTERM, then SIGKILL) and waits until it has gone. No-op when none runs. */
export async function stopClamd(dir: string, pid?: number): Promise<boolean> {
  const target = pid ?? (await readPid(dir).catch(() => undefined));
  if (!target || !alive(target)) return false;
  process.kill(target, 'SIGTERM');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (alive(target)) {
    if (Date.now() > deadline) process.kill(target, 'SIGKILL');
    await sleep(50);
  }
  await rm(clamdFiles(dir).pid, { force: true });
  return true;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
