// Runs scanners concurrently, each under its own timeout, and never lets one failure spoil the rest:
// a throw or a timeout becomes one `<FAMILY>_ERROR` finding with the error as evidence. Measures ms.

import type { ScanContext, Scanner } from './scanner.ts';
import { errorSymbol } from './symbols.ts';
import type { ScanInput, ScanResult } from './types.ts';

class ScannerTimeoutError extends Error {
  override readonly name = 'ScannerTimeoutError';
}

/** Runs `scanners` on `input`; one ScanResult per scanner, in the order given. */
export async function runScanners(
  scanners: readonly Scanner[],
  input: ScanInput,
  ctx: Omit<ScanContext, 'signal'>,
): Promise<ScanResult[]> {
  return Promise.all(scanners.map((s) => runOne(s, input, ctx)));
}

async function runOne(
  scanner: Scanner,
  input: ScanInput,
  ctx: Omit<ScanContext, 'signal'>,
): Promise<ScanResult> {
  const started = performance.now();
  const controller = new AbortController();
  const timeoutMs = ctx.policy.scannerTimeoutMs;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new ScannerTimeoutError(`timed out after ${timeoutMs} ms`);
      // Reject first: a scanner that answers its abort signal must not win the race with a partial result.
      reject(err);
      controller.abort(err);
    }, timeoutMs);
  });
  try {
    const findings = await Promise.race([
      scanner.scan(input, { ...ctx, signal: controller.signal }),
      timeout,
    ]);
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
  } finally {
    clearTimeout(timer);
  }
}

const elapsed = (started: number): number => Math.round((performance.now() - started) * 100) / 100;
