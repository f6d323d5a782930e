// Benchmarks: engine throughput and memory on a corpus sample, beside the bare parse ceiling and, when
// rspamd is running, rspamd's rate on the same messages; then the local gateway end to end (SMTP in,
// workflow, delivery to the folder). First, each Lambda bundle's size and cold init time (bench/bundles.ts),
// and the same with and without source maps.
// Prints figures; asserts nothing. `npm run bench`.
//   SEG_BENCH_ONLY=bundles  stop after the bundle figures; SEG_BENCH_INIT_RUNS=N imports per bundle (default 5)
//   SEG_BENCH_ONLY=engine   only the engine, the parse ceiling and rspamd on the same messages
//   SEG_BENCH_ONLY=breakdown  only the parse ceiling and the CPU time of the parse and of each scanner
//   SEG_BENCH_CORPUS=DIR   a corpus root with spamassassin/, phishing_pot/, modern/ (default: ../shared/corpus
//                          if present); the sample is taken from the held-back part of the split
//                          (bin/commands/corpus-split.ts), the messages the classifier never trained on
//   SEG_BENCH_PER_LABEL=N  messages per label (default 300); SEG_BENCH_SMTP=N messages through SMTP (default 300)
//   SEG_BENCH_RSPAMD=HOST:PORT  rspamd's normal worker (default 127.0.0.1:11433; skipped when not answering)
//   SEG_BENCH_RSPAMD_WORKERS=N  its worker count, to give a per-core figure (default: this machine's CPUs)
//   SEG_BENCH_WARMUP=N     engine warm-up passes over the sample before timing (default 5)
//   SEG_BENCH_ROUNDS=N     timed rounds, each a pass of the engine then one of rspamd (default 3)

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import nodemailer from 'nodemailer';
import { LABELS, labeledSources, listFiles, stripMboxLine } from '../bin/commands/corpus-files.ts';
import { partOf, type SplitName } from '../bin/commands/corpus-split.ts';
import { EMBEDDED_DEFAULT_CONFIG, parseConfig } from '../lambdas/config/load-config.ts';
import { messageFeatures } from '../lambdas/engine/classifier/features.ts';
import { score } from '../lambdas/engine/classifier/model.ts';
import { parseMessage } from '../lambdas/engine/parse.ts';
import { envelopeFromHeaders, offlineResolver, scanMessage } from '../lambdas/engine/scan-message.ts';
import { builtInModel } from '../lambdas/engine/scanners/classifier.ts';
import { ALL_SCANNERS } from '../lambdas/engine/scanners/index.ts';
import { startLocalGateway } from '../lambdas/local/gateway.ts';
import { benchAntivirus } from './antivirus.ts';
import { benchBundles, benchSourceMaps, SOURCE_MAP_VARIANTS } from './bundles.ts';
import { benchReparse } from './reparse.ts';

const config = parseConfig(EMBEDDED_DEFAULT_CONFIG);
const perLabel = Number(process.env.SEG_BENCH_PER_LABEL ?? 300);
const smtpCount = Number(process.env.SEG_BENCH_SMTP ?? 300);
const warmupPasses = Number(process.env.SEG_BENCH_WARMUP ?? 5);
const rounds = Number(process.env.SEG_BENCH_ROUNDS ?? 3);

/**
 * A deterministic sample of the held-back part: every k-th held-back file of each label, over the
 * sources under spamassassin/, phishing_pot/ and modern/.
 */
async function loadSample(root: string): Promise<Buffer[]> {
  const split = builtInModel().file.split.name as SplitName;
  const messages: Buffer[] = [];
  for (const label of LABELS) {
    const held: { file: string; raw: Buffer }[] = [];
    for (const group of ['spamassassin', 'phishing_pot', 'modern']) {
      if (!existsSync(join(root, group))) continue;
      for (const source of await labeledSources(join(root, group))) {
        const dir = source.dirs[label];
        if (!dir) continue;
        for (const file of await listFiles(dir)) {
          const raw = await readFile(file);
          if (raw.length && partOf(split, file, label, raw) === 'test') held.push({ file, raw });
        }
      }
    }
    const step = Math.max(1, Math.floor(held.length / perLabel));
    for (let i = 0, taken = 0; i < held.length && taken < perLabel; i += step, taken++) {
      messages.push(stripMboxLine(held[i]!.raw));
    }
  }
  return messages;
}

/** Small generated messages when no corpus is at hand. */
function generated(n: number): Buffer[] {
  return Array.from({ length: n }, (_, i) =>
    Buffer.from(
      `From: sender${i}@example.org\r\nTo: user@example.com\r\nSubject: message ${i}\r\n` +
        `Message-ID: <${i}@example.org>\r\n\r\nHello, see https://example.org/page/${i} for details.\r\n`,
    ),
  );
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

const load = () => loadavg()[0]!.toFixed(1);
/** Fresh copies: extraction is memoised per buffer (extraction-of.ts), and a warm-up must not pre-pay the timed pass. */
const copies = (messages: Buffer[]) => messages.map((m) => Buffer.from(m));

/**
 * Warms the engine up to its steady state: V8 keeps compiling and the heap keeps growing over the first
 * few thousand messages (on the 900-message sample, the second pass ran at about 60% of the sixth in
 * 2026-12-02's runs), and a gateway process (seg serve, a Lambda container past its first messages)
 * spends its life warm, as rspamd's workers do.
 */
async function warmEngine(messages: Buffer[]): Promise<number[]> {
  const rates: number[] = [];
  for (let pass = 0; pass < warmupPasses; pass++) {
    const list = copies(messages);
    const started = performance.now();
    for (const raw of list) await scanMessage(raw, { config, resolver: offlineResolver });
    rates.push(Math.round(list.length / ((performance.now() - started) / 1000)));
  }
  return rates;
}

/** One timed pass of the engine over `messages`. */
async function benchEngine(messages: Buffer[]) {
  const latencies: number[] = [];
  let peakRss = process.memoryUsage().rss;
  const bytes = messages.reduce((n, m) => n + m.length, 0);
  const timed = copies(messages);
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  for (const raw of timed) {
    const t0 = performance.now();
    await scanMessage(raw, { config, resolver: offlineResolver });
    latencies.push(performance.now() - t0);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  latencies.sort((a, b) => a - b);
  return {
    messages: messages.length,
    mib: Number(mib(bytes)),
    msgsPerSec: Math.round(messages.length / seconds),
    cpuMsPerMessage: Number(((cpu.user + cpu.system) / 1000 / messages.length).toFixed(2)),
    loadAverage: Number(load()),
    p50Ms: Number(quantile(latencies, 0.5).toFixed(2)),
    p95Ms: Number(quantile(latencies, 0.95).toFixed(2)),
    peakRssMiB: Number(mib(peakRss)),
  };
}

/**
 * Where a message's time goes: the parse, then each scanner run alone, one after the other, in CPU
 * milliseconds per message (process CPU time, so other load on the machine barely moves it). The
 * attachment scanners share one extraction per message: the first of them pays for it.
 */
async function benchBreakdown(messages: Buffer[]) {
  const cpuMs = (since: NodeJS.CpuUsage) => {
    const u = process.cpuUsage(since);
    return (u.user + u.system) / 1000;
  };
  const ctx = {
    policy: config.policy,
    lists: config.lists,
    attachments: config.attachments,
    limits: config.limits,
    protectedDomains: config.domains.map((d) => d.name.toLowerCase()),
    resolver: offlineResolver,
    detection: config.detection,
    signal: new AbortController().signal,
  };
  const ms = new Map<string, number>([['(parse)', 0]]);
  for (const raw of copies(messages)) {
    let since = process.cpuUsage();
    const parsed = await parseMessage(raw, config.limits);
    ms.set('(parse)', ms.get('(parse)')! + cpuMs(since));
    const input = { raw, parsed, envelope: envelopeFromHeaders(parsed) };
    for (const scanner of ALL_SCANNERS) {
      since = process.cpuUsage();
      await scanner.scan(input, ctx);
      ms.set(scanner.name, (ms.get(scanner.name) ?? 0) + cpuMs(since));
    }
  }
  const total = [...ms.values()].reduce((a, b) => a + b, 0);
  const rows = Object.fromEntries(
    [...ms.entries(), ['(total)', total] as const].map(([name, t]) => [
      name,
      {
        cpuMsPerMessage: Number((t / messages.length).toFixed(3)),
        share: `${((100 * t) / total).toFixed(1)}%`,
      },
    ]),
  );
  return rows;
}

/**
 * The parse ceiling: seg's parse (parse.ts), and mailparser alone, bare with its default text/HTML
 * conversions (html-to-text, text-to-html, links) and bare without them.
 */
async function benchParse(messages: Buffer[]) {
  // msg/s on the wall clock (moved by the machine's load), and CPU ms per message with the rate one
  // core gives at that cost.
  const rate = async (fn: (raw: Buffer) => Promise<unknown>) => {
    for (const raw of messages) await fn(raw);
    const cpu = process.cpuUsage();
    const started = performance.now();
    for (const raw of messages) await fn(raw);
    const used = process.cpuUsage(cpu);
    const cpuMs = (used.user + used.system) / 1000 / messages.length;
    return {
      msgsPerSec: Math.round(messages.length / ((performance.now() - started) / 1000)),
      cpuMsPerMessage: Number(cpuMs.toFixed(2)),
      perCoreByCpu: Math.round(1000 / cpuMs),
      loadAverage: Number(load()),
    };
  };
  return {
    // Fresh copies: parse's reading is kept per buffer (parse.ts readMail), which would time a cache.
    'seg parse (parse.ts)': await rate((raw) => parseMessage(Buffer.from(raw), config.limits)),
    'mailparser, default conversions': await rate((raw) => simpleParser(raw)),
    'mailparser, no conversions': await rate((raw) =>
      simpleParser(raw, {
        skipHtmlToText: true,
        skipTextToHtml: true,
        skipTextLinks: true,
        skipImageLinks: true,
      }),
    ),
  };
}

/** The classifier alone on parsed messages: features and scoring, what it adds to a message's cost. */
async function benchClassifier(messages: Buffer[]) {
  const parsed = await Promise.all(messages.map((raw) => parseMessage(raw, config.limits)));
  const model = builtInModel();
  for (const p of parsed.slice(0, 20)) score(model, messageFeatures(p));
  const started = performance.now();
  for (const p of parsed) score(model, messageFeatures(p));
  const seconds = (performance.now() - started) / 1000;
  return { classifierAlonePerSec: Math.round(parsed.length / seconds) };
}

/**
 * A client of rspamd's normal worker over its HTTP protocol (POST /checkv2), 4 in flight, as the
 * baseline harness; `{ skipped }` with the reason when rspamd is not answering.
 */
async function rspamdClient(
  messages: Buffer[],
): Promise<{ pass(list: Buffer[]): Promise<void>; close(): void } | { skipped: string }> {
  const [host = '127.0.0.1', port = '11433'] = (process.env.SEG_BENCH_RSPAMD ?? '127.0.0.1:11433').split(':');
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const check = (raw: Buffer) =>
    new Promise<void>((resolve, reject) => {
      const req = request(
        { host, port: Number(port), method: 'POST', path: '/checkv2', agent, timeout: 30_000 },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.end(raw);
    });
  try {
    await check(messages[0]!);
  } catch (err) {
    agent.destroy();
    return { skipped: `rspamd not answering on ${host}:${port} (${(err as Error).message})` };
  }
  const pass = async (list: Buffer[]) => {
    let next = 0;
    const worker = async () => {
      while (next < list.length) await check(list[next++]!);
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
  };
  return { pass, close: () => agent.destroy() };
}

/** One timed pass of rspamd over `messages`, with its rate per worker (per core) and CPU time. */
async function benchRspamd(client: { pass(list: Buffer[]): Promise<void> }, messages: Buffer[]) {
  const workers = Number(process.env.SEG_BENCH_RSPAMD_WORKERS ?? availableParallelism());
  const cpuBefore = rspamdCpuMs();
  const started = performance.now();
  await client.pass(messages);
  const msgsPerSec = Math.round(messages.length / ((performance.now() - started) / 1000));
  const cpuMs = cpuBefore === undefined ? undefined : (rspamdCpuMs() ?? 0) - cpuBefore;
  return {
    msgsPerSec,
    workers,
    perCorePerSec: Math.round(msgsPerSec / workers),
    loadAverage: Number(load()),
    ...(cpuMs === undefined ? {} : { cpuMsPerMessage: Number((cpuMs / messages.length).toFixed(2)) }),
  };
}

/**
 * CPU time (user + system) of every rspamd process on this machine so far, from /proc, in ms; undefined
 * where /proc cannot tell (not Linux, or rspamd runs elsewhere). A shared machine's load moves wall-clock
 * rates; CPU time per message compares the two engines' work whatever else runs.
 */
function rspamdCpuMs(): number | undefined {
  if (!existsSync('/proc/self/stat')) return undefined;
  const tick = 1000 / 100; // USER_HZ is 100 on Linux
  let total = 0;
  let found = false;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'latin1').startsWith('rspamd')) continue;
      // Fields after the ")" that ends the command name: utime and stime are the 12th and 13th.
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(fields[11]) + Number(fields[12])) * tick;
      found = true;
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return found ? total : undefined;
}

async function benchGateway(messages: Buffer[]) {
  const dataDir = await mkdtemp(join(tmpdir(), 'seg-bench-'));
  const gateway = await startLocalGateway({
    config,
    dataDir,
    smtpPort: 0,
    resolver: offlineResolver,
    reconcileIntervalMs: false,
    log: () => {},
  });
  const transport = nodemailer.createTransport({
    host: gateway.smtp.host,
    port: gateway.smtp.port,
    secure: false,
    ignoreTLS: true,
    pool: true,
    maxConnections: 4,
  });
  try {
    const started = performance.now();
    await Promise.all(
      messages.map((raw) =>
        transport.sendMail({ envelope: { from: 'bench@example.org', to: ['user@example.com'] }, raw }),
      ),
    );
    const accepted = (performance.now() - started) / 1000;
    await gateway.drain();
    const done = (performance.now() - started) / 1000;
    const delivered = (await readdir(join(dataDir, 'delivered')).catch(() => [])).length;
    return {
      messages: messages.length,
      acceptedPerSec: Math.round(messages.length / accepted),
      disposedPerSec: Math.round(messages.length / done),
      delivered,
      peakRssMiB: Number(mib(process.memoryUsage().rss)),
    };
  } finally {
    transport.close();
    await gateway.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const only = process.env.SEG_BENCH_ONLY;
let bundles: Awaited<ReturnType<typeof benchBundles>> | undefined;
let sourceMaps: Awaited<ReturnType<typeof benchSourceMaps>> | undefined;
if (only !== 'engine' && only !== 'breakdown') {
  console.log(
    'bundles: each Lambda entry built as CDK builds it; init = its import in a fresh Node process (median)',
  );
  bundles = await benchBundles();
  console.table(bundles);
  // The source-map choice (lib/bundling.ts): the deployed options beside the variants they were chosen over.
  console.log(
    `source maps: KiB (bundle + map), init ms and CPU ms per variant: ${Object.keys(SOURCE_MAP_VARIANTS).join(', ')}`,
  );
  sourceMaps = await benchSourceMaps();
  console.table(sourceMaps);
  if (only === 'bundles') process.exit(0);
}

const corpus = process.env.SEG_BENCH_CORPUS ?? join(import.meta.dirname, '../../shared/corpus');
const sample = existsSync(corpus) ? await loadSample(corpus) : [];
const messages = sample.length ? sample : generated(perLabel * 3);
console.log(
  `engine: ${messages.length} messages from ${sample.length ? 'the corpus sample' : 'generated mail'}`,
);
if (only === 'breakdown') {
  // The parse ceiling and where the engine's time goes, alone: the figures a change to one step moves.
  await warmEngine(messages);
  const parse = await benchParse(messages);
  console.table(parse);
  const breakdown = await benchBreakdown(messages);
  console.table(breakdown);
  console.log(JSON.stringify({ loadAverage: Number(load()), parse, breakdown }));
  process.exit(0);
}
// Back to back on the same messages, both warm: the engine on this one process (one core), then rspamd
// with its own workers, in `rounds` alternating rounds, so a shared machine's drifting speed falls on
// both alike; the figures are each engine's median round and the median of the rounds' ratios.
const warmup = await warmEngine(messages);
console.log(`engine warm-up, msg/s per pass: ${warmup.join(', ')}`);
const client = await rspamdClient(messages);
if (!('skipped' in client)) await client.pass(messages);
const seg: Awaited<ReturnType<typeof benchEngine>>[] = [];
const rspamdRounds: Awaited<ReturnType<typeof benchRspamd>>[] = [];
for (let round = 0; round < rounds; round++) {
  seg.push(await benchEngine(messages));
  if (!('skipped' in client)) rspamdRounds.push(await benchRspamd(client, messages));
}
if (!('skipped' in client)) client.close();
const median = <T>(rows: T[], by: (row: T) => number): T =>
  [...rows].sort((a, b) => by(a) - by(b))[Math.floor(rows.length / 2)]!;
const engine = median(seg, (r) => r.msgsPerSec);
console.log(
  `engine: ${warmupPasses} warm-up passes, then ${rounds} rounds back to back with rspamd; median round:`,
);
console.table(engine);
const rspamd = 'skipped' in client ? client : median(rspamdRounds, (r) => r.msgsPerSec);
console.table(rspamd);
if (!('skipped' in rspamd)) {
  const ratios = seg.map((s, i) => s.msgsPerSec / Math.max(1, rspamdRounds[i]!.perCorePerSec));
  const cpuRatios = seg.map((s, i) => (rspamdRounds[i]!.cpuMsPerMessage ?? 0) / s.cpuMsPerMessage);
  const list = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ');
  console.log(
    `seg ${engine.msgsPerSec} msg/s on one core (load ${engine.loadAverage}) vs rspamd ${rspamd.perCorePerSec} msg/s ` +
      `per core (${rspamd.msgsPerSec} on ${rspamd.workers} workers, load ${rspamd.loadAverage}): ` +
      `${median(ratios, (x) => x).toFixed(2)}x (target 2x; rounds ${list(ratios)})`,
  );
  if (rspamd.cpuMsPerMessage) {
    const perCore = (ms: number) => Math.round(1000 / ms);
    console.log(
      `by CPU time: seg ${engine.cpuMsPerMessage} ms per message (${perCore(engine.cpuMsPerMessage)} msg/s per core) vs ` +
        `rspamd ${rspamd.cpuMsPerMessage} ms (${perCore(rspamd.cpuMsPerMessage)} msg/s per core): ` +
        `${median(cpuRatios, (x) => x).toFixed(2)}x (rounds ${list(cpuRatios)})`,
    );
  }
}
const parse = await benchParse(messages);
console.log('the parse ceiling on one core: seg parse, bare mailparser with and without its conversions');
console.table(parse);
const classifierAlone = await benchClassifier(messages);
console.table(classifierAlone);
console.log('CPU ms per message: the parse, then each scanner alone (sequential):');
const breakdown = await benchBreakdown(messages);
console.table(breakdown);
console.log('re-parse in the scanner steps vs a stored parsed copy: compute per message (docs/cost.md)');
const reparse = await benchReparse(config, copies(messages));
console.table(reparse);
if (only === 'engine') {
  console.log(JSON.stringify({ warmup, engine, rspamd, parse, classifierAlone, breakdown, reparse }));
  process.exit(0);
}
console.log(
  `gateway: ${Math.min(smtpCount, messages.length)} messages over SMTP into seg serve (4 connections)`,
);
const gateway =
  process.env.SEG_BENCH_SMTP === '0' ? undefined : await benchGateway(messages.slice(0, smtpCount));
if (gateway) console.table(gateway);
console.log('antivirus: messages with attachments through seg + clamd, beside clamdscan on the same files');
const antivirus = await benchAntivirus(config, corpus);
console.table(antivirus);
console.log(
  JSON.stringify({
    bundles,
    sourceMaps,
    warmup,
    engine,
    rspamd,
    parse,
    classifierAlone,
    breakdown,
    reparse,
    gateway,
    antivirus,
  }),
);
