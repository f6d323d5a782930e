// Test helper: `seg serve` as a real child process (bin/seg.mjs), for the tests that kill or stop it.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { type SmtpSink, startSmtpSink } from './smtp-sink.ts';

export const SEG = join(import.meta.dirname, '../../bin/seg.mjs');

/** Starts `seg serve` as a child process; resolves with it and its SMTP port once it prints its banner. */
export async function serve(
  args: string[],
): Promise<{ child: ChildProcess; port: number; output: () => string }> {
  const child = spawn(process.execPath, [SEG, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /smtp:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        clearInterval(timer);
        resolve(Number(match[1]));
      }
    }, 50);
    child.once('exit', (code) => {
      clearInterval(timer);
      reject(new Error(`seg serve exited with ${code} before its banner:\n${output}`));
    });
  });
  return { child, port, output: () => output };
}

export const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });

/**
 * A suite's gateway under test as a process: a temporary folder, a downstream SMTP sink, and every
 * `seg serve` child the suite starts, all cleaned up after it (a child still running is killed).
 */
export function serveFixture(prefix: string) {
  const fixture = {
    dir: '',
    sink: undefined as unknown as SmtpSink,
    /**
     * Writes a config that protects example.com and delivers to the sink, plus `extra` settings;
     * returns the `seg serve` (and `seg reconcile`) arguments for it and its data folder.
     */
    async configure(
      extra: Record<string, unknown> = {},
    ): Promise<{ args: string[]; configFile: string; dataDir: string }> {
      const configFile = join(fixture.dir, 'seg.config.json');
      const dataDir = join(fixture.dir, 'data');
      await writeFile(
        configFile,
        JSON.stringify({
          domains: [{ name: 'example.com', route: { host: 'mail.example.com', port: 587 } }],
          local: { downstream: { host: '127.0.0.1', port: fixture.sink.port } },
          ...extra,
        }),
      );
      return { args: ['-c', configFile, '-d', dataDir, '-p', '0'], configFile, dataDir };
    },
    /** Starts `seg serve` with `args`; the fixture kills it after the suite if it still runs. */
    async serve(args: string[]) {
      const started = await serve(args);
      children.push(started.child);
      return started;
    },
  };
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    fixture.dir = await mkdtemp(join(tmpdir(), `seg-${prefix}-`));
    fixture.sink = await startSmtpSink();
  });
  afterAll(async () => {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await fixture.sink?.stop();
    if (fixture.dir) await rm(fixture.dir, { recursive: true, force: true });
  });
  return fixture;
}
