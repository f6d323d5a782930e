// The safety net end to end: a message stored without a workflow (its ingest was lost) is found by the
// same reconcile handler the deployed schedule runs, re-driven through the workflow and delivered; an
// ingest that failed every retry is kept in ingest-failures/ and re-ingested with its real envelope.

import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/config/load-config.ts';
import { offlineResolver } from '../../lambdas/engine/scan-message.ts';
import { RECONCILE_MIN_AGE_MS, type ReconcileResult } from '../../lambdas/handlers/reconcile.ts';
import { type LocalGateway, startLocalGateway } from '../../lambdas/local/gateway.ts';

describe('local reconciler', () => {
  let dataDir: string;
  let gateway: LocalGateway;
  /** While true, the ingest the listener invokes fails, as a broken ingest Lambda would. */
  let failIngest = false;
  /** While true, the ingest the listener invokes never runs, as when the process dies after the 250. */
  let dropIngest = false;
  const logged: string[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'seg-reconcile-'));
    gateway = await startLocalGateway({
      config: parseConfig({
        domains: [{ name: 'example.com', route: { host: 'mail.example.com', port: 587 } }],
      }),
      dataDir,
      smtpPort: 0,
      retryIntervalMs: 0,
      resolver: offlineResolver,
      reconcileIntervalMs: false,
      // The reconciler leaves young messages to their workflow: run it as if the object were old enough.
      clock: () => new Date(Date.now() + RECONCILE_MIN_AGE_MS + 60_000),
      log: (line) => logged.push(line),
      ingestRetryMs: 0,
      interceptIngest: (ingest) => async (event) => {
        if (failIngest) throw new Error('ingest unavailable (injected)');
        if (dropIngest) return undefined;
        return ingest(event);
      },
    });
  });

  afterAll(async () => {
    await gateway?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('re-drives an accepted message whose ingest never ran and delivers it to its envelope recipient only', async () => {
    const raw = await readFile(join(import.meta.dirname, '../fixtures/e2e/clean.eml'));
    dropIngest = true;
    const transport = nodemailer.createTransport({
      host: gateway.smtp.host,
      port: gateway.smtp.port,
      secure: false,
      ignoreTLS: true,
    });
    // The header To is bob@; the only envelope recipient is a Bcc.
    const info = await transport.sendMail({
      envelope: { from: 'alice@sender.test', to: ['bcc-only@example.com'] },
      raw,
    });
    transport.close();
    await gateway.drain();
    dropIngest = false;
    const messageId = /queued as ([a-z0-9]+)/.exec(info.response)?.[1] ?? '';
    expect(await gateway.deps.ledger.get(messageId)).toEqual({});

    // As after a restart: the process that accepted it is gone, so it is orphaned now.
    const result: ReconcileResult = await gateway.reconcile({
      orphanedBefore: new Date(Date.now() + RECONCILE_MIN_AGE_MS + 120_000).toISOString(),
    });
    expect(result.redriven.map((r) => r.messageId)).toContain(messageId);
    await gateway.drain();

    expect(await gateway.deps.ledger.get(messageId)).toEqual({ 'bcc-only@example.com': 'DELIVERED' });
    const files = (await readdir(join(dataDir, 'delivered'))).filter((f) => f.startsWith(messageId));
    expect(files).toEqual([`${messageId}-bcc-only@example.com.eml`]);
  });

  it('keeps the event of an ingest that failed every retry and delivers it to every envelope recipient on reconcile', async () => {
    const raw = await readFile(join(import.meta.dirname, '../fixtures/e2e/clean.eml'));
    failIngest = true;
    const transport = nodemailer.createTransport({
      host: gateway.smtp.host,
      port: gateway.smtp.port,
      secure: false,
      ignoreTLS: true,
    });
    // hidden@ is a Bcc: in the SMTP envelope, in no header.
    const info = await transport.sendMail({
      envelope: { from: 'alice@sender.test', to: ['bob@example.com', 'hidden@example.com'] },
      raw,
    });
    transport.close();
    const messageId = /queued as ([a-z0-9]+)/.exec(info.response)?.[1] ?? '';
    await gateway.drain();
    failIngest = false;

    const failures = join(dataDir, 'ingest-failures');
    expect(await readdir(failures)).toEqual([`${messageId}.json`]);
    expect(logged.some((line) => line.startsWith(`ingest of ${messageId} failed after retries`))).toBe(true);
    expect(await gateway.deps.ledger.get(messageId)).toEqual({});

    const result = await gateway.reconcile();
    expect(result.reingested).toEqual([messageId]);
    expect(result.redriven.map((r) => r.messageId)).not.toContain(messageId);
    await gateway.drain();

    expect(await gateway.deps.ledger.get(messageId)).toEqual({
      'bob@example.com': 'DELIVERED',
      'hidden@example.com': 'DELIVERED',
    });
    const delivered = (await readdir(join(dataDir, 'delivered'))).filter((f) => f.startsWith(messageId));
    expect(delivered.sort()).toEqual([
      `${messageId}-bob@example.com.eml`,
      `${messageId}-hidden@example.com.eml`,
    ]);
    expect(await readdir(failures)).toEqual([]);
  });
});
