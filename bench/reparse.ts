// The compute side of storing no parsed copy (docs/cost.md): the workflow once parsed each message in
// Parse, stored the result as JSON and had all five scanner steps read it back; now Parse keeps only a
// summary and the two steps whose scanners read the parsed message (content, lists) parse again. This
// measures the pieces on the same messages and prices both designs at the deployed memory sizes. CPU
// only: the S3 side is counted by test/e2e/cost-per-message.test.ts. Asserts nothing.

import type { SegConfig } from '../lambdas/config/schema.ts';
import { parseMessage } from '../lambdas/engine/parse.ts';
import { needsParse } from '../lambdas/engine/scanner.ts';
import { SCANNER_GROUPS, type ScannerGroup } from '../lambdas/engine/scanners/index.ts';
import { SPECS } from '../lib/functions.ts';

/** Lambda arm64, us-east-1, per GB-second (docs/cost.md has the date). */
const LAMBDA_USD_PER_GB_S = 0.0000133334;

const gb = (fn: keyof typeof SPECS) => SPECS[fn].memoryMb / 1024;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

export async function benchReparse(config: SegConfig, messages: readonly Buffer[]) {
  const parseMs: number[] = [];
  const stringifyMs: number[] = [];
  const jsonParseMs: number[] = [];
  const jsonBytes: number[] = [];
  // A fresh copy for every parse: parse.ts keeps one reading per buffer in a process, and each step is
  // its own Lambda process, so no step finds another's reading.
  for (const raw of messages.slice(0, 20)) await parseMessage(Buffer.from(raw), config.limits);
  for (const raw of messages) {
    const copy = Buffer.from(raw);
    let t = performance.now();
    const parsed = await parseMessage(copy, config.limits);
    parseMs.push(performance.now() - t);
    t = performance.now();
    const json = JSON.stringify(parsed);
    stringifyMs.push(performance.now() - t);
    jsonBytes.push(Buffer.byteLength(json));
    t = performance.now();
    JSON.parse(json);
    jsonParseMs.push(performance.now() - t);
  }
  const parse = mean(parseMs);
  const stringify = mean(stringifyMs);
  const jsonParse = mean(jsonParseMs);
  const groups = Object.keys(SCANNER_GROUPS) as ScannerGroup[];
  // GB-seconds per message of the work that differs between the designs (ms / 1000 x GB).
  const before =
    ((parse + stringify) / 1000) * gb('parse') +
    groups.reduce((t, g) => t + (jsonParse / 1000) * gb(`scan-${g}`), 0);
  const after =
    (parse / 1000) * gb('parse') +
    groups
      .filter((g) => needsParse(SCANNER_GROUPS[g]))
      .reduce((t, g) => t + (parse / 1000) * gb(`scan-${g}`), 0);
  const usdPer1k = (gbS: number) => Number((gbS * LAMBDA_USD_PER_GB_S * 1000).toFixed(5));
  return {
    messages: messages.length,
    meanParseMs: Number(parse.toFixed(2)),
    meanStringifyMs: Number(stringify.toFixed(2)),
    meanJsonParseMs: Number(jsonParse.toFixed(2)),
    meanParsedJsonKiB: Number((mean(jsonBytes) / 1024).toFixed(1)),
    parsedCopyGbS: Number(before.toFixed(5)),
    reparseGbS: Number(after.toFixed(5)),
    parsedCopyUsdPer1k: usdPer1k(before),
    reparseUsdPer1k: usdPer1k(after),
  };
}
