// Runs scanners concurrently, each under its own timeout, and never lets one failure spoil the rest:
// a throw or a timeout becomes one `<FAMILY>_ERROR` finding with the error as evidence. Measures ms.

import type { ScanContext, Scanner } from './scanner.ts';
import { errorSymbol } from './symbols.ts';
import type { RawScanInput, ScanInput, ScanResult } from './types.ts';

class ScannerTimeoutError extends Error {
  override readonly name = 'ScannerTimeoutError';
}

/**
 * Runs `scanners` on `input`; one ScanResult per scanner, in the order given. `input` may leave out
 * the parsed message when no scanner reads it (needsParse); one that does then yields its _ERROR.
 * They start together, so one deadline (a timer and an abort signal) times them all: each still
 * unfinished when it passes gets its own _ERROR, as with a timer of its own.
 */
export async function runScanners(
  scanners: readonly Scanner[],
  input: ScanInput | RawScanInput,
  ctx: Omit<ScanContext, 'signal'>,
): Promise<ScanResult[]> {
  const controller = new AbortController();
  const timeoutMs = ctx.policy.scannerTimeoutMs;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new ScannerTimeoutError(`timed out after ${timeoutMs} ms`);
      // Reject first: a scanner that answers its abort signal must not win the race with a partial result.
      reject(err);
      controller.abort(err);
    }, timeoutMs);
  });
  // Every scanner may have finished when it passes: nothing else then awaits it.
  deadline.catch(() => {});
  const scanCtx = { ...ctx, signal: controller.signal };
  try {
    return await Promise.all(scanners.map((s) => runOne(s, input, scanCtx, deadline)));
  } finally {
    clearTimeout(timer);
  }
}

async function runOne(
  scanner: Scanner,
  input: ScanInput | RawScanInput,
  ctx: ScanContext,
  deadline: Promise<never>,
): Promise<ScanResult> {
  const started = performance.now();
  try {
    const scanning =
      scanner.reads === 'raw'
        ? scanner.scan(input, ctx)
        : 'parsed' in input
          ? scanner.scan(input, ctx)
          : Promise.reject(new Error('needs the parsed message, which this step did not parse'));
    const findings = await Promise.race([scanning, deadline]);
    return { scanner: scanner.name, family: scanner.family, findings, ms: elapsed(started) };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return {
      scanner: scanner.name,
      family: scanner.family,
      findings: [
        { symbol: errorSymbol(scanner.family), evidence: `${scanner.name}: ${message}`.slice(0, 300) },
      ],
      ms: elapsed(started),
    };
  }
}

const elapsed = (started: number): number => Math.round((performance.now() - started) * 100) / 100;
