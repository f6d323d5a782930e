// The STARTTLS certificate of the local submission port: the configured key and certificate, or a
// self-signed one made once with the openssl CLI and kept under <dataDir>/tls (node:crypto makes keys
// but not certificates). Loopback only, so clients are told to trust it explicitly.

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ConfigError } from '../config/load-config.ts';
import type { SegConfig } from '../config/schema.ts';

export interface TlsMaterial {
  readonly key: Buffer;
  readonly cert: Buffer;
}

export async function submissionTls(config: SegConfig, dataDir: string): Promise<TlsMaterial> {
  const configured = config.local.tls;
  if (configured) return { key: readFileSync(configured.keyFile), cert: readFileSync(configured.certFile) };
  const dir = join(dataDir, 'tls');
  const keyFile = join(dir, 'submission-key.pem');
  const certFile = join(dir, 'submission-cert.pem');
  if (!existsSync(keyFile) || !existsSync(certFile)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    try {
      await promisify(execFile)('openssl', [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-days',
        '825',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ]);
    } catch (cause) {
      throw new ConfigError('local.tls', [
        `could not make a self-signed certificate with openssl (${(cause as Error).message.split('\n')[0]}): install openssl or set local.tls.keyFile and certFile`,
      ]);
    }
  }
  return { key: readFileSync(keyFile), cert: readFileSync(certFile) };
}
