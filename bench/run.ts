// Benchmarks: engine throughput and memory on a corpus sample, then the local gateway end to end
// (SMTP in, workflow, delivery to the folder). Prints figures; asserts nothing. `npm run bench`.
//   SEG_BENCH_CORPUS=DIR   a folder of <label>/... messages (default: ../shared/corpus if present)
//   SEG_BENCH_PER_LABEL=N  messages per label (default 300); SEG_BENCH_SMTP=N messages through SMTP (default 300)

import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { EMBEDDED_DEFAULT_CONFIG, parseConfig } from '../lambdas/config/load-config.ts';
import { offlineResolver, scanMessage } from '../lambdas/engine/scan-message.ts';
import { startLocalGateway } from '../lambdas/local/gateway.ts';

const config = parseConfig(EMBEDDED_DEFAULT_CONFIG);
const perLabel = Number(process.env.SEG_BENCH_PER_LABEL ?? 300);
const smtpCount = Number(process.env.SEG_BENCH_SMTP ?? 300);

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else if (entry.isFile() && !entry.name.startsWith('.')) out.push(path);
  }
  return out.sort();
}

/** A deterministic sample: every k-th file of each label folder, found at any depth. */
async function loadSample(root: string): Promise<Buffer[]> {
  const labelDirs = [
    ['ham', ['spamassassin/ham', 'ham']],
    ['spam', ['spamassassin/spam', 'spam']],
    ['phish', ['phishing_pot/phish', 'phish']],
  ] as const;
  const messages: Buffer[] = [];
  for (const [, candidates] of labelDirs) {
    const dir = candidates.map((c) => join(root, c)).find((d) => existsSync(d));
    if (!dir) continue;
    const files = (await filesUnder(dir)).filter((f) => !f.endsWith('.tsv'));
    const step = Math.max(1, Math.floor(files.length / perLabel));
    for (let i = 0, taken = 0; i < files.length && taken < perLabel; i += step) {
      const raw = await readFile(files[i]!);
      if (raw.length === 0) continue;
      messages.push(raw);
      taken++;
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

async function benchEngine(messages: Buffer[]) {
  for (const raw of messages.slice(0, 20)) await scanMessage(raw, { config, resolver: offlineResolver });
  const latencies: number[] = [];
  let peakRss = process.memoryUsage().rss;
  const bytes = messages.reduce((n, m) => n + m.length, 0);
  const started = performance.now();
  for (const raw of messages) {
    const t0 = performance.now();
    await scanMessage(raw, { config, resolver: offlineResolver });
    latencies.push(performance.now() - t0);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    messages: messages.length,
    mib: Number(mib(bytes)),
    msgsPerSec: Math.round(messages.length / seconds),
    p50Ms: Number(quantile(latencies, 0.5).toFixed(2)),
    p95Ms: Number(quantile(latencies, 0.95).toFixed(2)),
    peakRssMiB: Number(mib(peakRss)),
  };
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

const corpus = process.env.SEG_BENCH_CORPUS ?? join(import.meta.dirname, '../../shared/corpus');
const sample = existsSync(corpus) ? await loadSample(corpus) : [];
const messages = sample.length ? sample : generated(perLabel * 3);
console.log(
  `engine: ${messages.length} messages from ${sample.length ? 'the corpus sample' : 'generated mail'}`,
);
const engine = await benchEngine(messages);
console.table(engine);
console.log(
  `gateway: ${Math.min(smtpCount, messages.length)} messages over SMTP into seg serve (4 connections)`,
);
const gateway = await benchGateway(messages.slice(0, smtpCount));
console.table(gateway);
console.log(JSON.stringify({ engine, gateway }));
