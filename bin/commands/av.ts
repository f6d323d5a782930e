// `seg av start|stop|status`: the local antivirus engine, a clamd with the project's signature database
// (av/signatures: EICAR and seg's test signatures) under <dataDir>/clamav, listening on a unix socket.
// It does not download official definitions (freshclam does that where the network allows).

import { stopClamd } from '../../lambdas/adapters/clamd/clamd-daemon.ts';
import { localClamdClient, localClamdDir, startLocalClamd } from '../../lambdas/local/local-antivirus.ts';
import { loadLocalConfig } from '../../lambdas/local/local-config.ts';

export interface AvOptions {
  readonly config?: string;
  readonly dataDir?: string;
}

/** Returns the exit code: 0 done (or running), 1 failed (or not running). */
export async function avCommand(action: 'start' | 'stop' | 'status', opts: AvOptions): Promise<number> {
  const { config } = loadLocalConfig(opts.config);
  const dataDir = opts.dataDir ?? config.local.dataDir;
  const client = localClamdClient(config, dataDir);
  const running = await client.ping();
  switch (action) {
    case 'status':
      if (!running) {
        console.log(`no clamd answers at ${client.address}: mail would be held with AV_ERROR`);
        return 1;
      }
      console.log(`clamd at ${client.address}: ${await client.version()}`);
      return 0;
    case 'start': {
      if (running) {
        console.log(`clamd already answers at ${client.address}: ${await client.version()}`);
        return 0;
      }
      if (config.antivirus.clamd) {
        console.error(`seg av start: antivirus.clamd names ${client.address}; start that server yourself`);
        return 1;
      }
      try {
        const daemon = await startLocalClamd(config, dataDir, { detached: true });
        console.log(
          `clamd started at ${daemon.client.address} (pid ${daemon.pid}): ${await daemon.client.version()}`,
        );
        return 0;
      } catch (error) {
        console.error(`seg av start: ${(error as Error).message}`);
        return 1;
      }
    }
    case 'stop': {
      const stopped = await stopClamd(localClamdDir(dataDir));
      console.log(stopped ? 'clamd stopped' : `no clamd of ours runs under ${localClamdDir(dataDir)}`);
      return 0;
    }
  }
}
