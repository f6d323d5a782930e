// Lambda bundle figures: builds every entry in lambdas/functions with esbuild the way lib/functions.ts
// has CDK build it (ESM, node22, minified, the AWS SDK left to the runtime), then prints each bundle's
// size and its cold init time: the import of the built bundle in a fresh Node process. Asserts nothing.

import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { EMBEDDED_DEFAULT_CONFIG } from '../lambdas/config/load-config.ts';
import { ENV } from '../lambdas/handlers/deps.ts';
import { bundlingOptions, type SegBundling } from '../lib/bundling.ts';

const ROOT = join(import.meta.dirname, '..');
const RUNS = Number(process.env.SEG_BENCH_INIT_RUNS ?? 5);

/** Settings every entry reads at cold start; no AWS call is made at import. */
const ENVIRONMENT = {
  [ENV.bucket]: 'bucket',
  [ENV.quarantineTable]: 'quarantine',
  [ENV.ledgerTable]: 'ledger',
  [ENV.stateMachineArn]: 'arn:aws:states:us-east-1:123456789012:stateMachine:seg',
  [ENV.outboundStateMachineArn]: 'arn:aws:states:us-east-1:123456789012:stateMachine:seg-outbound',
  [ENV.ingestFailureQueueUrl]: 'https://sqs.us-east-1.amazonaws.com/123456789012/seg-ingest-failures',
  [ENV.arrivalQueueUrl]: 'https://sqs.us-east-1.amazonaws.com/123456789012/seg-arrivals',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
};

/**
 * Wall and CPU milliseconds of importing the bundle (its module scope builds the handler). CPU time is
 * reported too because wall time on a shared machine swings with the load of other processes.
 */
const INIT_PROBE = `const t0 = performance.now(), c0 = process.cpuUsage(); await import(process.argv[1]); const c = process.cpuUsage(c0); process.stdout.write(JSON.stringify([performance.now() - t0, (c.user + c.system) / 1000]));`;

export interface BundleFigures {
  readonly function: string;
  readonly kib: number;
  readonly mapKib: number;
  /** Median wall time of RUNS fresh-process imports. */
  readonly initMs: number;
  /** Median CPU time of the same imports. */
  readonly initCpuMs: number;
}

/** `override` changes the deployed options, to compare variants (e.g. without source maps). */
export async function benchBundles(override: Partial<SegBundling> = {}): Promise<BundleFigures[]> {
  const out = await mkdtemp(join(tmpdir(), 'seg-bundles-'));
  try {
    // The SDK is external (the Lambda runtime provides it): resolve it from this project's node_modules.
    await symlink(join(ROOT, 'node_modules'), join(out, 'node_modules'), 'dir');
    const entries = (await readdir(join(ROOT, 'lambdas', 'functions'))).filter((f) => f.endsWith('.ts'));
    const config = EMBEDDED_DEFAULT_CONFIG as unknown as Parameters<typeof bundlingOptions>[0];
    const rows: BundleFigures[] = [];
    for (const file of entries.sort()) {
      const name = file.replace(/\.ts$/, '');
      const outfile = join(out, `${name}.mjs`);
      const options = { ...bundlingOptions(config), ...override };
      await build({
        entryPoints: [join(ROOT, 'lambdas', 'functions', file)],
        outfile,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: options.target,
        minify: options.minify,
        sourcemap: options.sourceMap,
        mainFields: options.mainFields,
        banner: { js: options.banner ?? '' },
        define: options.define,
        external: options.externalModules,
        logLevel: 'error',
      });
      const times: number[] = [];
      const cpu: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const ms = execFileSync(process.execPath, ['--input-type=module', '-e', INIT_PROBE, outfile], {
          env: {
            ...process.env,
            ...ENVIRONMENT,
            // Only the variant's own options: none inherited from the shell running the bench.
            NODE_OPTIONS: options.nodeOptions ?? '',
          },
          encoding: 'utf8',
        });
        const [wall, used] = JSON.parse(ms) as [number, number];
        times.push(wall);
        cpu.push(used);
      }
      const median = (xs: number[]) => Math.round(xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0);
      const mapSize = await stat(`${outfile}.map`).then(
        (s) => s.size,
        () => 0,
      );
      rows.push({
        function: name,
        kib: Math.round((await stat(outfile)).size / 1024),
        mapKib: Math.round(mapSize / 1024),
        initMs: median(times),
        initCpuMs: median(cpu),
      });
    }
    return rows;
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

/** The bundling variants the source-map choice compares (docs/cost.md, "Source maps"). */
export const SOURCE_MAP_VARIANTS = {
  /** Minified, with a source map and --enable-source-maps: readable stack traces, the map parsed at load. */
  'map+flag': { minify: true, sourceMap: true, nodeOptions: '--enable-source-maps' },
  /** Minified, no map: the smallest bundle, stack traces name minified code. */
  minified: { minify: true, sourceMap: false, nodeOptions: undefined },
  /** Not minified, no map: stack traces name the real functions at bundle lines, no map to parse. */
  unminified: { sourceMap: false, minify: false, nodeOptions: undefined },
} as const satisfies Record<string, Partial<SegBundling>>;

/** One row per function: size and median init (wall and CPU ms) under each variant, side by side. */
export async function benchSourceMaps(): Promise<Record<string, string | number>[]> {
  // One variant after the other: concurrent builds and imports would slow each other down.
  const results: [string, BundleFigures[]][] = [];
  for (const [variant, override] of Object.entries(SOURCE_MAP_VARIANTS))
    results.push([variant, await benchBundles(override)]);
  return (results[0]?.[1] ?? []).map(({ function: fn }) => {
    const row: Record<string, string | number> = { function: fn };
    for (const [variant, rows] of results) {
      const r = rows.find((x) => x.function === fn);
      if (!r) continue;
      row[`${variant} KiB`] = r.kib + r.mapKib;
      row[`${variant} ms`] = r.initMs;
      row[`${variant} cpu`] = r.initCpuMs;
    }
    return row;
  });
}
