// Test helper: the local gateway with its submission port, in a fresh data folder, quiet and with no
// background reconciles, and one submitter (alice) whose password the tests log in with. The outbound
// end-to-end tests differ only in the outbound policy and the senders alice may use.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword } from '../../lambdas/config/passwords.ts';
import { type LocalGateway, startLocalGateway } from '../../lambdas/local/gateway.ts';
import { testConfig } from '../engine/helpers.ts';

export const SUBMITTER = { user: 'alice', pass: 'correct horse battery staple' } as const;

export interface SubmissionGateway {
  readonly gateway: LocalGateway;
  /** The gateway's data folder. */
  readonly dir: string;
  /** Stops the gateway and removes its folder. */
  close(): Promise<void>;
}

export async function startSubmissionGateway(options: {
  /** Names the data folder, for a person reading /tmp. */
  readonly name: string;
  /** outbound.actions of the config. @default the config's defaults */
  readonly actions?: Record<string, string>;
  /** Addresses or domains alice may send as. @default ['alice@example.com'] */
  readonly allowedFrom?: readonly string[];
}): Promise<SubmissionGateway> {
  const dir = await mkdtemp(join(tmpdir(), `seg-${options.name}-`));
  const gateway = await startLocalGateway({
    config: testConfig({
      outbound: {
        ...(options.actions ? { actions: options.actions } : {}),
        submitters: [
          {
            username: SUBMITTER.user,
            passwordHash: await hashPassword(SUBMITTER.pass),
            allowedFrom: options.allowedFrom ?? ['alice@example.com'],
          },
        ],
      },
    }),
    dataDir: dir,
    smtpPort: 0,
    submissionPort: 0,
    reconcileIntervalMs: false,
    reconcileAtStart: false,
    retryIntervalMs: 1,
    log: () => undefined,
  });
  return {
    gateway,
    dir,
    async close() {
      await gateway.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
