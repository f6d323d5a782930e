// A clamd client speaking the daemon's own protocol (INSTREAM, VERSION, PING) over a unix socket or
// TCP: the AntivirusEngine adapter of every runtime (seg serve, seg scan, CI, the antivirus Lambda).
// It does not start clamd (see clamd-daemon.ts) and keeps no connection open between scans.

import { createConnection, type Socket } from 'node:net';
import { AntivirusUnavailableError } from '../../errors.ts';
import type { AntivirusEngine, AntivirusVerdict } from '../../ports/index.ts';

/** clamd reads INSTREAM in chunks of at most this size; 64 KiB keeps the socket buffers busy but small. */
const CHUNK_BYTES = 64 * 1024;
/** Debian's default StreamMaxLength, and ours (clamd-daemon.ts): clamd refuses longer streams. */
export const DEFAULT_STREAM_MAX_BYTES = 25 * 1024 * 1024;
/** A local daemon accepts in microseconds; a second means it is not there. */
const CONNECT_TIMEOUT_MS = 1_000;
/** A 25 MB stream scans in well under this on one core; longer means clamd is stuck. */
const SCAN_TIMEOUT_MS = 30_000;

/** Where clamd listens: a unix socket path or a TCP host and port. */
export type ClamdAddress = { readonly path: string } | { readonly host: string; readonly port: number };

/**
 * Parses `tcp://host:port`, `unix:///path`, `unix:/path` or a bare socket path.
 * Throws on anything else, so a bad `antivirus.clamd` setting fails at start.
 */
export function parseClamdAddress(text: string): ClamdAddress {
  const tcp = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d{1,5})\/?$/.exec(text);
  if (tcp) {
    const port = Number(tcp[2]);
    if (port < 1 || port > 65535) throw new Error(`clamd address ${text}: port out of range`);
    return { host: tcp[1]!.replace(/^\[|\]$/g, ''), port };
  }
  const unix = /^unix:(?:\/\/)?(\/.+)$/.exec(text);
  if (unix) return { path: unix[1]! };
  if (text.startsWith('/') || text.startsWith('.')) return { path: text };
  throw new Error(`clamd address ${text}: expected tcp://host:port, unix:///path or a socket path`);
}

export const formatClamdAddress = (a: ClamdAddress): string =>
  'path' in a ? `unix:${a.path}` : `tcp://${a.host}:${a.port}`;

export interface ClamdClientOptions {
  readonly address: ClamdAddress | string;
  /** Must not exceed clamd's StreamMaxLength. @default 25 MiB */
  readonly maxStreamBytes?: number;
  /** @default 1000 */
  readonly connectTimeoutMs?: number;
  /** Time for one whole command, connect to reply. @default 30000 */
  readonly timeoutMs?: number;
}

export class ClamdClient implements AntivirusEngine {
  readonly maxBytes: number;
  readonly address: string;
  private readonly target: ClamdAddress;
  private readonly connectTimeoutMs: number;
  private readonly timeoutMs: number;

  constructor(options: ClamdClientOptions) {
    this.target = typeof options.address === 'string' ? parseClamdAddress(options.address) : options.address;
    this.address = formatClamdAddress(this.target);
    this.maxBytes = options.maxStreamBytes ?? DEFAULT_STREAM_MAX_BYTES;
    this.connectTimeoutMs = options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
    this.timeoutMs = options.timeoutMs ?? SCAN_TIMEOUT_MS;
  }

  /** Streams `bytes` to clamd with INSTREAM. Throws AntivirusUnavailableError when clamd cannot answer. */
  async scan(bytes: Uint8Array, name: string, signal?: AbortSignal): Promise<AntivirusVerdict> {
    if (bytes.length > this.maxBytes) {
      throw new AntivirusUnavailableError(
        `clamd at ${this.address}: ${name} is ${bytes.length} bytes, over StreamMaxLength ${this.maxBytes}`,
      );
    }
    const reply = await this.command('INSTREAM', name, signal, (socket) => writeStream(socket, bytes));
    return parseScanReply(reply, this.address, name);
  }

  /** `ClamAV 1.4.6/<db version>/<db date>`. */
  async version(): Promise<string> {
    return this.command('VERSION', 'version');
  }

  /** True when clamd answers PING with PONG. Never throws. */
  async ping(): Promise<boolean> {
    return this.command('PING', 'ping').then(
      (reply) => reply === 'PONG',
      () => false,
    );
  }

  /** Asks clamd to reload its signature databases (after new definitions were written). */
  async reload(): Promise<void> {
    const reply = await this.command('RELOAD', 'reload');
    if (reply !== 'RELOADING') throw new AntivirusUnavailableError(`clamd at ${this.address}: ${reply}`);
  }

  /**
   * Sends one z-command (NUL-terminated, one reply per connection) and returns the reply without its
   * NUL. `body` writes whatever follows the command (INSTREAM's chunks).
   */
  private command(
    name: string,
    what: string,
    signal?: AbortSignal,
    body?: (socket: Socket) => Promise<void>,
  ): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const where = `clamd at ${this.address}`;
      const socket = createConnection(this.target);
      const chunks: Buffer[] = [];
      let settled = false;
      const finish = (error: Error | undefined, reply?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(connectTimer);
        clearTimeout(totalTimer);
        signal?.removeEventListener('abort', onAbort);
        socket.destroy();
        if (error) reject(error);
        else resolve(reply ?? '');
      };
      const fail = (message: string, cause?: unknown) =>
        finish(new AntivirusUnavailableError(`${where}: ${message} (${what})`, { cause }));
      const onAbort = () => fail('scan aborted');
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      const connectTimer = setTimeout(
        () => fail(`no connection within ${this.connectTimeoutMs} ms`),
        this.connectTimeoutMs,
      );
      const totalTimer = setTimeout(() => fail(`no answer within ${this.timeoutMs} ms`), this.timeoutMs);

      socket.on('connect', () => {
        clearTimeout(connectTimer);
        socket.write(`z${name}\0`);
        // clamd may answer (e.g. "size limit exceeded") and close before the body is written: the
        // reply below wins, and a write error after it is ignored.
        body?.(socket).catch((error: Error) => fail(`stream failed: ${error.message}`, error));
      });
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        const all = Buffer.concat(chunks);
        const end = all.indexOf(0);
        if (end >= 0) finish(undefined, all.subarray(0, end).toString('utf8').trim());
      });
      socket.on('end', () => {
        const all = Buffer.concat(chunks).toString('utf8').replace(/\0+$/, '').trim();
        if (all) finish(undefined, all);
        else fail('connection closed without an answer');
      });
      socket.on('error', (error: NodeJS.ErrnoException) => {
        // clamd answers a refused stream (e.g. "size limit exceeded") and closes; if that answer is in, it wins.
        const answered = Buffer.concat(chunks).toString('utf8').replace(/\0+$/, '').trim();
        if (answered) return finish(undefined, answered);
        if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') return fail('not running', error);
        if (body && (error.code === 'EPIPE' || error.code === 'ECONNRESET')) {
          return fail(
            `closed the connection mid-stream (${error.code}: is its StreamMaxLength smaller?)`,
            error,
          );
        }
        fail(error.message, error);
      });
    });
  }
}

/** INSTREAM's body: 4-byte big-endian length + chunk, repeated, then a zero length. */
async function writeStream(socket: Socket, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.length; offset += CHUNK_BYTES) {
    const chunk = bytes.subarray(offset, Math.min(offset + CHUNK_BYTES, bytes.length));
    const size = Buffer.alloc(4);
    size.writeUInt32BE(chunk.length);
    await write(socket, Buffer.concat([size, chunk]));
  }
  await write(socket, Buffer.alloc(4));
}

function write(socket: Socket, data: Buffer): Promise<void> {
  if (socket.destroyed) return Promise.reject(new Error('socket closed'));
  return new Promise((resolve, reject) => {
    socket.write(data, (error) => (error ? reject(error) : resolve()));
  });
}

/** `stream: OK`, `stream: <signature> FOUND`, or `<problem> ERROR`. */
function parseScanReply(reply: string, address: string, name: string): AntivirusVerdict {
  const found = /^stream: (.+) FOUND$/.exec(reply);
  if (found) return { infected: true, signature: found[1]! };
  if (reply === 'stream: OK') return { infected: false };
  throw new AntivirusUnavailableError(`clamd at ${address}: ${reply.replace(/^stream: /, '')} (${name})`);
}
