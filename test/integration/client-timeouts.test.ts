// The SDK clients give up on a silent endpoint (a VPC subnet with no route to the service) instead of
// waiting for the Lambda timeout: a real S3 client against a TCP server that accepts and never answers.

import { createServer, type Server, type Socket } from 'node:net';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client } from '../../lambdas/adapters/aws/aws-clients.ts';
import { clientConfig, SDK_TIMEOUTS } from '../../lambdas/adapters/aws/client-config.ts';

describe('AWS SDK client timeouts', () => {
  let server: Server;
  const sockets: Socket[] = [];
  let port = 0;

  beforeAll(async () => {
    server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sets a connection and a request timeout on every client by default', () => {
    expect(clientConfig({ region: 'us-east-1' }).requestHandler).toEqual({
      connectionTimeout: SDK_TIMEOUTS.connectionMs,
      requestTimeout: SDK_TIMEOUTS.requestMs,
      throwOnRequestTimeout: true,
    });
    expect(SDK_TIMEOUTS.connectionMs).toBeLessThan(SDK_TIMEOUTS.requestMs);
  });

  it('fails a call to an endpoint that accepts the connection and never answers', async () => {
    const client = createS3Client({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      timeouts: { connectionMs: 200, requestMs: 200 },
    });
    const call = client.send(new GetObjectCommand({ Bucket: 'b', Key: 'k' }));
    await expect(call).rejects.toMatchObject({ name: expect.stringMatching(/Timeout/) });
    expect(sockets.length).toBeGreaterThan(0);
    client.destroy();
  });
});
