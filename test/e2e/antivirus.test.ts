// Malware end to end: real SMTP into the local gateway, which finds or starts clamd (Debian's
// clamav-daemon with the project's signature database) exactly as `seg serve` does.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quarantineCommand } from '../../bin/commands/quarantine.ts';
import { stopClamd } from '../../lambdas/adapters/clamd/clamd-daemon.ts';
import { parseConfig } from '../../lambdas/config/load-config.ts';
import { offlineResolver } from '../../lambdas/engine/scan-message.ts';
import { type LocalGateway, startLocalGateway } from '../../lambdas/local/gateway.ts';
import { localClamdDir } from '../../lambdas/local/local-antivirus.ts';
import type { QuarantineItem } from '../../lambdas/ports/index.ts';
import { cleanDocx, cleanPdf, EICAR, messageWith } from '../support/av-samples.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';
import { buildZip } from '../support/zip.ts';
import { captureStdout } from './helpers.ts';

async function send(port: number, to: string, raw: Buffer): Promise<string> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
  try {
    const info = await transport.sendMail({ envelope: { from: 'alice@sender.test', to: [to] }, raw });
    return /queued as ([a-z0-9]+)/.exec(info.response)?.[1] ?? '';
  } finally {
    transport.close();
  }
}

describe('seg serve with antivirus (end to end)', () => {
  let dataDir: string;
  let sink: SmtpSink;
  let gateway: LocalGateway;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'seg-e2e-av-'));
    sink = await startSmtpSink({ reply: () => 250 });
    const config = parseConfig({
      domains: [{ name: 'example.com', route: { host: 'mail.example.com', port: 587 } }],
      local: { smtpPort: 0, dataDir, downstream: { host: '127.0.0.1', port: sink.port } },
    });
    gateway = await startLocalGateway({
      config,
      dataDir,
      smtpPort: 0,
      retryIntervalMs: 0,
      resolver: offlineResolver,
      reconcileIntervalMs: false,
      log: () => undefined,
    });
  });

  afterAll(async () => {
    await gateway?.close();
    await sink?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const delivered = (subject: string) => sink.messages.filter((m) => m.raw.includes(`Subject: ${subject}`));
  const items = async (): Promise<QuarantineItem[]> =>
    JSON.parse((await captureStdout(() => quarantineCommand('list', { json: true, dataDir }))).stdout);

  it('starts clamd for the run when none answers, and says where it is', () => {
    expect(gateway.antivirus.running).toBe(true);
    expect(gateway.antivirus.status).toMatch(
      /^clamd at unix:.*clamav\/clamd\.sock \(ClamAV [\d.]+.*started for this run$/,
    );
  });

  it('delivers a clean PDF and a clean Word document', async () => {
    await send(
      gateway.smtp.port,
      'bob@example.com',
      await messageWith(
        [{ filename: 'invoice.pdf', content: cleanPdf(), contentType: 'application/pdf' }],
        'clean pdf',
      ),
    );
    await send(
      gateway.smtp.port,
      'bob@example.com',
      await messageWith(
        [
          {
            filename: 'report.docx',
            content: cleanDocx(),
            contentType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
          },
        ],
        'clean docx',
      ),
    );
    await gateway.drain();
    expect(delivered('clean pdf')).toHaveLength(1);
    expect(delivered('clean docx')).toHaveLength(1);
    expect(delivered('clean docx')[0]!.raw.toString('latin1')).toMatch(/^X-SEG-Verdict: deliver/m);
  });

  it('holds an EICAR attachment, zipped or not, for an administrator only', async () => {
    const plain = await send(
      gateway.smtp.port,
      'carol@example.com',
      await messageWith([{ filename: 'eicar.com', content: EICAR }], 'eicar plain'),
    );
    const zipped = await send(
      gateway.smtp.port,
      'carol@example.com',
      await messageWith(
        [{ filename: 'invoice.zip', content: buildZip([{ name: 'invoice.exe', data: EICAR }]) }],
        'eicar zip',
      ),
    );
    await gateway.drain();
    expect(delivered('eicar plain')).toHaveLength(0);
    expect(delivered('eicar zip')).toHaveLength(0);
    const held = (await items()).filter((i) => [plain, zipped].includes(i.messageId));
    expect(held).toHaveLength(2);
    for (const item of held) {
      expect(item.status).toBe('QUARANTINED');
      expect(item.symbols.split(' ')).toContain('AV_INFECTED');
      expect(item.adminRelease).toBe(true);
    }

    // A routine release refuses; only the explicit administrator override delivers.
    const refused = await captureStdout(() => quarantineCommand('release', { messageId: plain, dataDir }));
    expect(refused.result).toBe(1);
    expect(refused.stdout).toMatch(/not released .* it holds malware; only an administrator may release it/);
    expect(delivered('eicar plain')).toHaveLength(0);
    const forced = await captureStdout(() =>
      quarantineCommand('release', { messageId: plain, dataDir, force: true }),
    );
    expect(forced.result).toBe(0);
    expect(delivered('eicar plain')).toHaveLength(1);
  });

  it('holds the next message with AV_ERROR once clamd stops, instead of delivering it', async () => {
    expect(await stopClamd(localClamdDir(gateway.dataDir))).toBe(true);
    const id = await send(
      gateway.smtp.port,
      'dave@example.com',
      await messageWith([{ filename: 'invoice.pdf', content: cleanPdf() }], 'after clamd stopped'),
    );
    await gateway.drain();
    expect(delivered('after clamd stopped')).toHaveLength(0);
    const item = (await items()).find((i) => i.messageId === id);
    expect(item?.status).toBe('QUARANTINED');
    expect(item?.symbols.split(' ')).toContain('AV_ERROR');
    expect(item?.reason).toMatch(/AV failed closed/);
  });
});
