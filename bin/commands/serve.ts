// `seg serve`: runs the whole gateway on this machine (SMTP on loopback, embedded S3 and DynamoDB, the
// deployed workflow definition over the same handlers) until SIGINT/SIGTERM, then shuts down cleanly.
// It does not daemonize or write logs to files: it prints to the terminal.

import { DataDirBusyError } from '../../lambdas/local/embedded-aws.ts';
import { type LocalGateway, startLocalGateway } from '../../lambdas/local/gateway.ts';
import { loadLocalConfig } from '../../lambdas/local/local-config.ts';

export interface ServeOptions {
  /** Configuration file; default ./seg.config.json when present, else the embedded defaults. */
  readonly config?: string;
  /** Inbound SMTP port; default config.local.smtpPort (2525). */
  readonly port?: number;
  /** Data folder; default config.local.dataDir (.seg). */
  readonly dataDir?: string;
}

/** Starts the local gateway and resolves once it has stopped after SIGINT or SIGTERM. */
export async function serveCommand(opts: ServeOptions): Promise<void> {
  // A bad config throws ConfigError listing every problem, before anything starts.
  const { config, source } = loadLocalConfig(opts.config);
  let gateway: LocalGateway;
  try {
    gateway = await startLocalGateway({
      config,
      ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
      ...(opts.port !== undefined ? { smtpPort: opts.port } : {}),
      log: (line) => console.error(`seg serve: ${line}`),
      info: (line) => console.log(`${new Date().toISOString()} ${line}`),
    });
  } catch (error) {
    // Expected start-up problems get one clear line, not a stack trace.
    const e = error as NodeJS.ErrnoException & { address?: string; port?: number };
    if (e instanceof DataDirBusyError) console.error(`seg serve: ${e.message}`);
    else if (e.code === 'ENOTDIR' || e.code === 'EEXIST')
      console.error(
        `seg serve: the data folder ${opts.dataDir ?? config.local.dataDir} is not a folder; choose another with --data-dir`,
      );
    else if (e.code === 'EADDRINUSE')
      console.error(`seg serve: ${e.address}:${e.port} is already in use; choose another with --port`);
    else throw error;
    process.exitCode = 1;
    return;
  }
  printBanner(gateway, source);

  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      console.log(`\nseg serve: ${signal} received, finishing messages in flight...`);
      gateway.close().then(
        () => {
          console.log('seg serve: stopped');
          resolve();
        },
        (error: Error) => {
          console.error(`seg serve: error while stopping: ${error.message}`);
          process.exitCode = 1;
          resolve();
        },
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

function printBanner(gateway: LocalGateway, source: string): void {
  const domains = gateway.config.domains.map((d) => d.name).join(', ');
  console.log(
    [
      'seg serve: the local gateway is running',
      `  SMTP (inbound)  smtp://${gateway.smtp.host}:${gateway.smtp.port}  accepts mail for: ${domains}`,
      `  config          ${source}`,
      `  data folder     ${gateway.dataDir}`,
      `  S3 (s3rver)     ${gateway.endpoints.s3}  bucket ${gateway.endpoints.bucket}`,
      `  DynamoDB        ${gateway.endpoints.dynamodb}  tables ${gateway.endpoints.quarantineTable}, ${gateway.endpoints.ledgerTable}`,
      `  mail goes to    ${gateway.deliversTo}`,
      `  antivirus       ${gateway.antivirus.status}`,
      `  quarantine      npx seg quarantine list --data-dir ${gateway.dataDir}`,
      'Press Ctrl+C to stop.',
    ].join('\n'),
  );
}
