// The safety net end to end: a message stored without a workflow (its ingest was lost) is found by the
// same reconcile handler the deployed schedule runs, re-driven through the workflow and delivered.

import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/config/load-config.ts';
import { offlineResolver } from '../../lambdas/engine/scan-message.ts';
import { KEYS } from '../../lambdas/handlers/deps.ts';
import { RECONCILE_MIN_AGE_MS, type ReconcileResult } from '../../lambdas/handlers/reconcile.ts';
import { type LocalGateway, startLocalGateway } from '../../lambdas/local/gateway.ts';
import { newMessageId } from '../../lambdas/local/smtp-listener.ts';

describe('local reconciler', () => {
  let dataDir: string;
  let gateway: LocalGateway;

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
      log: () => undefined,
    });
  });

  afterAll(async () => {
    await gateway?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('re-drives a stored message whose ingest never ran and delivers it', async () => {
    const messageId = newMessageId();
    const raw = await readFile(join(import.meta.dirname, '../fixtures/e2e/clean.eml'));
    await gateway.deps.store.put(KEYS.inbound(messageId), new Uint8Array(raw), 'message/rfc822');

    const result: ReconcileResult = await gateway.reconcile();
    expect(result.redriven.map((r) => r.messageId)).toContain(messageId);
    await gateway.drain();

    expect((await gateway.deps.ledger.get(messageId))['bob@example.com']).toBe('DELIVERED');
    const files = await readdir(join(dataDir, 'delivered'));
    expect(files.filter((f) => f.endsWith('-bob@example.com.eml'))).toHaveLength(1);
  });
});
