// A tiny zip writer for tests (node has none): stored or deflated entries, optional lying sizes and
// the encrypted flag, so archive limits can be exercised with files generated at test time.

import { crc32, deflateRawSync } from 'node:zlib';
import { ZipCryptoKeys } from '../../lambdas/engine/attachments/zip-crypto.ts';

export interface ZipEntry {
  readonly name: string;
  readonly data: Uint8Array;
  /** Deflate the data (default true). */
  readonly deflate?: boolean;
  /** Set the "encrypted" flag bit (the data is left as is: readers must refuse to inflate it). */
  readonly encrypted?: boolean;
  /** Uncompressed size written in the headers, to lie as a zip bomb does (default: the true size). */
  readonly declaredSize?: number;
  /** Encrypt with ZipCrypto under this password (what `zip -P` does). */
  readonly password?: string;
}

/** Builds a zip archive holding `entries`. */
export function buildZip(entries: readonly ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const data = Buffer.from(e.data);
    const method = e.deflate === false ? 0 : 8;
    const compressed = method === 8 ? deflateRawSync(data) : data;
    // ZipCrypto puts a 12-byte header before the data (its last byte checks the password against
    // the CRC's high byte); readers check sizes with it included.
    const header = Buffer.alloc(12, 0xa5);
    header[11] = crc32(data) >>> 24;
    const packed = e.password
      ? new ZipCryptoKeys(e.password).encrypt(Buffer.concat([header, compressed]))
      : e.encrypted
        ? Buffer.concat([header, compressed])
        : compressed;
    const crc = crc32(data);
    const flags = (e.encrypted || e.password ? 0x1 : 0) | 0x800;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(e.declaredSize ?? data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(e.declaredSize ?? data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, packed);
    centrals.push(central, name);
    offset += local.length + name.length + packed.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** The EICAR antivirus test file, assembled at run time so no file in the repository carries it. */
export function eicar(): Buffer {
  return Buffer.from(['X5O!P%@AP[4\\PZX54(P^)7CC)7}$', 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'].join(''));
}

/** A multipart/mixed message with one text part and the given attachments (base64). */
export function mailWith(
  attachments: readonly { name: string; type?: string; data: Uint8Array; encoding?: string }[],
  text = 'Please see the attached file.',
): Buffer {
  const parts = attachments.map((a) => {
    const enc = a.encoding ?? 'base64';
    const body =
      enc === 'base64'
        ? (
            Buffer.from(a.data)
              .toString('base64')
              .match(/.{1,76}/g) ?? []
          ).join('\r\n')
        : Buffer.from(a.data).toString('latin1');
    return [
      '--b1',
      `Content-Type: ${a.type ?? 'application/octet-stream'}`,
      // RFC 2231 keeps non-ASCII names (a right-to-left override) intact.
      /^[\x20-\x7e]*$/.test(a.name)
        ? `Content-Disposition: attachment; filename="${a.name}"`
        : `Content-Disposition: attachment; filename*=utf-8''${encodeURIComponent(a.name)}`,
      `Content-Transfer-Encoding: ${enc}`,
      '',
      body,
    ].join('\r\n');
  });
  return Buffer.from(
    [
      'From: sender@example.org',
      'To: user@example.com',
      'Subject: files',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain',
      '',
      text,
      ...parts,
      '--b1--',
      '',
    ].join('\r\n'),
    'latin1',
  );
}
