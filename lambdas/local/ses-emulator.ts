// The SES emulator for the local runtime: aws-ses-v2-local started in-process on loopback, as s3rver
// and dynalite are. The SESv2 adapter sends to it with the real SDK; `emails()` reads what SES would
// have sent (its store is per process, so one emulator per process).

import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

const require = createRequire(import.meta.url);

/** One message as the emulator stores it (parsed by mailparser on arrival). */
export interface EmulatedEmail {
  readonly messageId: string;
  readonly from: string;
  readonly destination: {
    readonly to: readonly string[];
    readonly cc: readonly string[];
    readonly bcc: readonly string[];
  };
  readonly subject: string;
  readonly body: { readonly text?: string; readonly html?: string };
  readonly attachments: readonly {
    readonly filename?: string;
    readonly contentType: string;
    readonly size: number;
  }[];
  readonly at: number;
}

export interface SesEmulator {
  /** `http://127.0.0.1:<port>`: the SESv2 endpoint. */
  readonly url: string;
  readonly port: number;
  /** Everything sent so far, oldest first. */
  emails(): Promise<EmulatedEmail[]>;
  close(): Promise<void>;
}

type StartServer = (config: { host: string; port: number }) => Promise<Server>;

export async function startSesEmulator(options: { readonly port?: number } = {}): Promise<SesEmulator> {
  const start = (require('aws-ses-v2-local') as { default: StartServer }).default;
  const server = await start({ host: '127.0.0.1', port: options.port ?? 0 });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    port,
    async emails() {
      const res = await fetch(`${url}/store`);
      return ((await res.json()) as { emails: EmulatedEmail[] }).emails;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections?.();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
