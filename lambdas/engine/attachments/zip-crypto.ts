// Traditional PKWARE ("ZipCrypto") decryption, the scheme password-protected malware zips use because
// every unzip tool opens it. Used only with passwords found in the message itself. AES zips are not
// decrypted (they stay ATTACHMENT_ARCHIVE_ENCRYPTED).

import { crc32 } from 'node:zlib';

const CRC_TABLE = new Int32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});
const crcByte = (crc: number, b: number): number => (CRC_TABLE[(crc ^ b) & 0xff] as number) ^ (crc >>> 8);

/** The ZipCrypto keystream state for one password. */
export class ZipCryptoKeys {
  private k0 = 0x12345678;
  private k1 = 0x23456789;
  private k2 = 0x34567890;

  constructor(password: string) {
    for (const b of Buffer.from(password, 'utf8')) this.update(b);
  }

  private update(b: number): void {
    this.k0 = crcByte(this.k0, b);
    this.k1 = (Math.imul((this.k1 + (this.k0 & 0xff)) >>> 0, 134775813) + 1) >>> 0;
    this.k2 = crcByte(this.k2, this.k1 >>> 24);
  }

  private stream(): number {
    const t = (this.k2 | 2) & 0xffff;
    return (Math.imul(t, t ^ 1) >>> 8) & 0xff;
  }

  decrypt(data: Uint8Array): Buffer {
    const out = Buffer.allocUnsafe(data.length);
    for (let i = 0; i < data.length; i++) {
      const p = (data[i] as number) ^ this.stream();
      this.update(p);
      out[i] = p;
    }
    return out;
  }

  encrypt(data: Uint8Array): Buffer {
    const out = Buffer.allocUnsafe(data.length);
    for (let i = 0; i < data.length; i++) {
      const p = data[i] as number;
      out[i] = p ^ this.stream();
      this.update(p);
    }
    return out;
  }
}

/**
 * Decrypts one entry's raw data (12-byte header, then the packed bytes) with `password`. Returns the
 * packed bytes when the header's check byte matches `check` (the CRC's or the time's high byte).
 */
export function zipDecrypt(raw: Uint8Array, password: string, check: number): Buffer | undefined {
  if (raw.length < 12) return undefined;
  const keys = new ZipCryptoKeys(password);
  const header = keys.decrypt(raw.subarray(0, 12));
  if (header[11] !== check) return undefined;
  return keys.decrypt(raw.subarray(12));
}

export { crc32 };
