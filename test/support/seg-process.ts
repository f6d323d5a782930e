// Test helper: `seg serve` as a real child process (bin/seg.mjs), for the tests that kill or stop it.

import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

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
