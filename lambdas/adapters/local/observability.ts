// Logger and Metrics for the local runtime and tests: a logger that keeps its lines in memory (and
// forwards them only when asked, so `seg serve` prints its own outcome lines, not JSON), and counters.

import type { LogFields, Logger, MetricName, Metrics } from '../../ports/index.ts';

/** One line a RecordingLogger kept. */
export interface LogRecord {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly fields: LogFields;
}

/** Keeps the last `limit` lines; `forward` also receives each line (e.g. the gateway's error log). */
export class RecordingLogger implements Logger {
  readonly records: LogRecord[] = [];
  private readonly limit: number;
  private readonly forward: ((record: LogRecord) => void) | undefined;

  constructor(options: { readonly limit?: number; readonly forward?: (record: LogRecord) => void } = {}) {
    // Bounded: a long-running `seg serve` must not grow without end.
    this.limit = options.limit ?? 1000;
    this.forward = options.forward;
  }

  info(message: string, fields: LogFields = {}): void {
    this.record({ level: 'info', message, fields });
  }

  warn(message: string, fields: LogFields = {}): void {
    this.record({ level: 'warn', message, fields });
  }

  error(message: string, fields: LogFields = {}): void {
    this.record({ level: 'error', message, fields });
  }

  private record(record: LogRecord): void {
    this.records.push(record);
    if (this.records.length > this.limit) this.records.shift();
    this.forward?.(record);
  }
}

/** In-memory counters, keyed `Name/dimension` (e.g. `Messages/deliver`). */
export class CountingMetrics implements Metrics {
  readonly counts = new Map<string, number>();

  count(name: MetricName, dimension: string, value = 1): void {
    const key = `${name}/${dimension}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + value);
  }
}
