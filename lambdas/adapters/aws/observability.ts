// The Logger and Metrics ports over @aws-lambda-powertools: JSON log lines (service, cold start, function
// name, request id) and CloudWatch Embedded Metric Format lines, both written to the function's output
// (CloudWatch Logs), so neither makes an API call. `withLambdaContext` adds the invocation context and
// logs a failed invocation.

import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics as PowertoolsMetrics } from '@aws-lambda-powertools/metrics';
import { ENV, SERVICE } from '../../handlers/deps.ts';
import type { LogFields, Logger, MetricName, Metrics } from '../../ports/index.ts';
import { METRICS } from '../../ports/index.ts';

/** The service name the stack sets, else `seg` (explicit options would override the environment). */
const service = () => process.env[ENV.serviceName] || SERVICE;

/** A Logger writing one JSON line per call; the level comes from POWERTOOLS_LOG_LEVEL (default INFO). */
export class PowertoolsLogAdapter implements Logger {
  readonly powertools: PowertoolsLogger;

  constructor(powertools: PowertoolsLogger = new PowertoolsLogger({ serviceName: service() })) {
    this.powertools = powertools;
  }

  info(message: string, fields: LogFields = {}): void {
    this.powertools.info(message, { ...fields });
  }

  warn(message: string, fields: LogFields = {}): void {
    this.powertools.warn(message, { ...fields });
  }

  error(message: string, fields: LogFields = {}): void {
    this.powertools.error(message, { ...fields });
  }
}

/**
 * Metrics as EMF lines. Each count is flushed at once as a single metric, because the metrics have
 * different dimensions and one EMF document carries one dimension set.
 */
export class PowertoolsMetricsAdapter implements Metrics {
  readonly powertools: PowertoolsMetrics;

  constructor(
    powertools: PowertoolsMetrics = new PowertoolsMetrics({
      namespace: process.env[ENV.metricsNamespace] || SERVICE,
      serviceName: service(),
    }),
  ) {
    this.powertools = powertools;
  }

  count(name: MetricName, dimension: string, value = 1): void {
    const single = this.powertools.singleMetric();
    single.addDimension(METRICS[name], dimension);
    single.addMetric(name, MetricUnit.Count, value);
  }
}

/**
 * Wraps a handler so every log line of the invocation carries the function name, request id and cold
 * start, and a failed invocation leaves one error line with the error's name before it is rethrown.
 */
export function withLambdaContext<E, C extends object, R>(
  handler: (event: E, context?: C) => Promise<R>,
  { logger }: { readonly logger: Logger },
): (event: E, context?: C) => Promise<R> {
  return async (event, context) => {
    if (logger instanceof PowertoolsLogAdapter && context && 'awsRequestId' in context)
      logger.powertools.addContext(context as Parameters<PowertoolsLogger['addContext']>[0]);
    try {
      return await handler(event, context);
    } catch (error) {
      const e = error as Error;
      logger.error('invocation failed', { errorName: e.name, error: e.message?.slice(0, 500) });
      throw error;
    }
  };
}
