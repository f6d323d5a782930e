// The antivirus path through the REAL clamd (Debian's clamav-daemon) with the project's own signature
// database: the client protocol, the engine's AV scanner and the default fail-closed policy.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClamdClient, parseClamdAddress } from '../../lambdas/adapters/clamd/clamd-client.ts';
import { scanMessage } from '../../lambdas/engine/scan-message.ts';
import { AntivirusUnavailableError } from '../../lambdas/errors.ts';
import { testConfig } from '../engine/helpers.ts';
import { AV_SAMPLES, EICAR, messageWith, startTestClamd } from '../support/av-samples.ts';
import { buildZip } from '../support/zip.ts';

const TCP_PORT = 33_000 + (process.pid % 1000);
let clamd: Awaited<ReturnType<typeof startTestClamd>>;

beforeAll(async () => {
  clamd = await startTestClamd({ tcpPort: TCP_PORT });
});
afterAll(async () => {
  await clamd?.stop();
});

describe('ClamdClient', () => {
  it.each(Object.entries(AV_SAMPLES))('detects the %s test file by its signature', async (_, sample) => {
    const verdict = await clamd.client.scan(sample.bytes, 'sample');
    expect(verdict).toEqual({ infected: true, signature: `${sample.signature}.UNOFFICIAL` });
  });

  it('answers clean for a harmless file', async () => {
    expect(await clamd.client.scan(Buffer.from('hello, nothing to see'), 'hello.txt')).toEqual({
      infected: false,
    });
  });

  it('streams a file across many chunks and finds EICAR at its end', async () => {
    const big = Buffer.concat([Buffer.alloc(3 * 1024 * 1024 + 17, 0x41), EICAR]);
    expect((await clamd.client.scan(big, 'big.bin')).signature).toBe('Seg.Test.EICAR.UNOFFICIAL');
  });

  it('speaks TCP as well as the unix socket', async () => {
    const tcp = new ClamdClient({ address: `tcp://127.0.0.1:${TCP_PORT}` });
    expect((await tcp.scan(EICAR, 'eicar.com')).infected).toBe(true);
    expect(await tcp.version()).toMatch(/^ClamAV \d+\.\d+/);
  });

  it('refuses a file over StreamMaxLength before sending it', async () => {
    const small = new ClamdClient({ address: { path: clamd.socketPath }, maxStreamBytes: 1024 });
    await expect(small.scan(Buffer.alloc(2048), 'big.bin')).rejects.toThrow(/over StreamMaxLength 1024/);
  });

  it("reports clamd's own refusal when the client's limit is above clamd's", async () => {
    const tight = await startTestClamd({ maxStreamBytes: 64 * 1024 });
    try {
      const generous = new ClamdClient({ address: { path: tight.socketPath }, maxStreamBytes: 1 << 24 });
      await expect(generous.scan(Buffer.alloc(1024 * 1024), 'big.bin')).rejects.toThrow(
        /size limit exceeded|closed the connection mid-stream \((EPIPE|ECONNRESET): is its StreamMaxLength smaller\?\)/i,
      );
    } finally {
      await tight.stop();
    }
  });

  it('throws AntivirusUnavailableError naming the address when nothing listens', async () => {
    const none = new ClamdClient({ address: '/nonexistent/clamd.sock' });
    const error = await none.scan(EICAR, 'eicar.com').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AntivirusUnavailableError);
    expect((error as Error).message).toBe('clamd at unix:/nonexistent/clamd.sock: not running (eicar.com)');
    expect(await none.ping()).toBe(false);
  });

  it('parses the address forms the config accepts and rejects others', () => {
    expect(parseClamdAddress('tcp://127.0.0.1:3310')).toEqual({ host: '127.0.0.1', port: 3310 });
    expect(parseClamdAddress('unix:///run/clamd.sock')).toEqual({ path: '/run/clamd.sock' });
    expect(parseClamdAddress('/run/clamd.sock')).toEqual({ path: '/run/clamd.sock' });
    expect(() => parseClamdAddress('clamd:3310')).toThrow(/expected tcp:\/\/host:port/);
  });
});

describe('antivirus scanner through clamd', () => {
  const config = testConfig();

  it('holds an EICAR attachment with AV_INFECTED naming the file, sha256 and signature', async () => {
    const raw = await messageWith([{ filename: 'invoice.com', content: EICAR }]);
    const { verdict } = await scanMessage(raw, { config, antivirus: clamd.client });
    // Its weight alone passes the reject threshold (held, never bounced); the forced minimum stands behind it.
    expect(verdict.action).toBe('reject');
    expect(verdict.reason).toMatch(/^reject: score [\d.]+ >= 25 \(AV_INFECTED 100/);
    // The file, not the message, is named: its name as sent, its sha256 and the signature.
    expect(verdict.findings.filter((f) => f.symbol === 'AV_INFECTED').map((f) => f.evidence)).toEqual([
      `Seg.Test.EICAR.UNOFFICIAL in "invoice.com" (sha256 ${sha256(EICAR)})`,
    ]);
  });

  it('names the path inside an archive', async () => {
    const zip = buildZip([{ name: 'docs/run.exe', data: EICAR }]);
    const raw = await messageWith([{ filename: 'invoice.zip', content: zip }]);
    const { verdict } = await scanMessage(raw, { config, antivirus: clamd.client });
    const evidence = verdict.findings.filter((f) => f.symbol === 'AV_INFECTED').map((f) => f.evidence);
    expect(evidence).toContain(
      `Seg.Test.EICAR.UNOFFICIAL in "docs/run.exe" at invoice.zip/docs/run.exe (sha256 ${sha256(EICAR)})`,
    );
  });

  it('reports a file over the engine limit as AV_SKIPPED_OVERSIZE instead of sending it', async () => {
    const small = new ClamdClient({ address: { path: clamd.socketPath }, maxStreamBytes: 4096 });
    const raw = await messageWith([{ filename: 'big.bin', content: Buffer.alloc(8192, 0x41) }]);
    const { verdict } = await scanMessage(raw, { config, antivirus: small });
    const skipped = verdict.findings.filter((f) => f.symbol === 'AV_SKIPPED_OVERSIZE').map((f) => f.evidence);
    expect(
      skipped.some((e) => e?.startsWith('"big.bin" (sha256 ') && e.endsWith(': 8192 bytes > 4096')),
    ).toBe(true);
    expect(verdict.symbols).not.toContain('AV_ERROR');
  });

  it.each(['marker', 'hashed', 'logical'] as const)(
    'detects the %s test signature in an attachment',
    async (name) => {
      const raw = await messageWith([{ filename: `${name}.bin`, content: AV_SAMPLES[name].bytes }]);
      const { verdict } = await scanMessage(raw, { config, antivirus: clamd.client });
      expect(verdict.symbols).toContain('AV_INFECTED');
      expect(verdict.action).toBe('reject');
    },
  );

  it('delivers a clean message with no AV symbol', async () => {
    const raw = await messageWith([
      { filename: 'notes.txt', content: Buffer.from('minutes of the meeting') },
    ]);
    const { verdict } = await scanMessage(raw, { config, antivirus: clamd.client });
    expect(verdict.symbols.filter((s) => s.startsWith('AV_'))).toEqual([]);
    expect(verdict.action).toBe('deliver');
  });

  it('quarantines the next message with AV_ERROR once clamd is stopped mid-run', async () => {
    const own = await startTestClamd();
    const clean = await messageWith([{ filename: 'notes.txt', content: Buffer.from('minutes') }]);
    const before = await scanMessage(clean, { config, antivirus: own.client });
    expect(before.verdict.action).toBe('deliver');

    await own.stop();
    const after = await scanMessage(clean, { config, antivirus: own.client });
    expect(after.verdict.symbols).toContain('AV_ERROR');
    expect(after.verdict.action).toBe('quarantine');
    expect(after.verdict.reason).toMatch(/^quarantine: AV failed closed/);
    expect(after.verdict.findings.find((f) => f.symbol === 'AV_ERROR')?.evidence).toMatch(/not running/);
  });
});

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
