import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { evalCommand } from '../../bin/commands/eval.ts';
import { trainCommand } from '../../bin/commands/train.ts';
import { messageFeatures } from '../../lambdas/engine/classifier/features.ts';
import { loadModel, score } from '../../lambdas/engine/classifier/model.ts';
import { DEFAULT_LIMITS, parseMessage } from '../../lambdas/engine/parse.ts';

// A small labeled corpus written on the fly, so the test needs no corpus beside the repository.
const HAM = [
  'meeting',
  'agenda',
  'patch',
  'review',
  'thanks',
  'kernel',
  'build',
  'notes',
  'tomorrow',
  'draft',
];
const SPAM = ['cheap', 'pills', 'offer', 'winner', 'discount', 'casino', 'viagra', 'deal', 'free', 'limited'];
const PHISH = [
  'verify',
  'account',
  'suspended',
  'password',
  'login',
  'confirm',
  'security',
  'bank',
  'urgent',
  'locked',
];

let dir: string;
const mail = (words: string[], i: number, host: string) =>
  [
    `From: sender${i} <s${i}@${host}>`,
    'To: bob@example.com',
    `Subject: ${words[i % words.length]} ${words[(i + 3) % words.length]}`,
    `Message-ID: <${i}.${host}>`,
    '',
    `${words.map((w, k) => words[(i + k * 7) % words.length] ?? w).join(' ')} number ${i}`,
    `https://${host}/${words[(i + 1) % words.length]}`,
    '',
  ].join('\r\n');

function put(path: string, text: string) {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
}

async function captureStdout(fn: () => Promise<number>): Promise<{ code: number; text: string }> {
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  try {
    return { code: await fn(), text: chunks.join('') };
  } finally {
    spy.mockRestore();
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'seg-train-'));
  for (let i = 0; i < 40; i++) {
    put(join(dir, 'mail', 'lista', 'ham', `${i}.eml`), mail(HAM, i, 'lists.example.org'));
    put(join(dir, 'mail', 'lista', 'spam', `${i}.eml`), mail(SPAM, i, 'deals.example.net'));
    put(
      join(dir, 'mail', 'pot', 'phish', `sample-${i + 1}.eml`),
      mail(PHISH, i, 'secure-login.example.info'),
    );
    put(
      join(dir, 'text', 'part1', 'ham', `${i}.txt`),
      `Subject: ${HAM[i % 10]} notes\n${HAM.join(' ')} ${i}\n`,
    );
    put(
      join(dir, 'text', 'part1', 'spam', `${i}.txt`),
      `Subject: ${SPAM[i % 10]} now\n${SPAM.join(' ')} ${i}\n`,
    );
  }
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});

afterAll(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

describe('seg train', () => {
  it('writes byte-identical model files when run twice on the same corpus', async () => {
    const args = { text: [join(dir, 'text')], quiet: true };
    expect(await trainCommand([join(dir, 'mail')], { ...args, out: join(dir, 'a.json') })).toBe(0);
    expect(await trainCommand([join(dir, 'mail')], { ...args, out: join(dir, 'b.json') })).toBe(0);
    const a = readFileSync(join(dir, 'a.json'));
    expect(a.length).toBeGreaterThan(1000);
    expect(a.equals(readFileSync(join(dir, 'b.json')))).toBe(true);
  });

  it('records the split and the training counts, and the model it writes tells the classes apart', async () => {
    const file = JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8'));
    expect(file.split.name).toBe('hash70');
    expect(file.trained['text-ham']).toBe(40);
    expect(file.trained.ham).toBeLessThan(40); // only the training part of the mail
    const model = loadModel(file);
    const scoreOf = async (text: string) =>
      score(model, messageFeatures(await parseMessage(Buffer.from(text), DEFAULT_LIMITS)));
    const ham = await scoreOf(mail(HAM, 99, 'lists.example.org'));
    const spam = await scoreOf(mail(SPAM, 99, 'deals.example.net'));
    const phish = await scoreOf(mail(PHISH, 99, 'secure-login.example.info'));
    expect(ham.pBad).toBeLessThan(0.5);
    expect(spam.pBad).toBeGreaterThan(0.5);
    expect(phish.pBad).toBeGreaterThan(0.5);
    expect(phish.pPhish).toBeGreaterThan(spam.pPhish);
  });

  it('prints the strongest features of each class with --explain', async () => {
    const { code, text } = await captureStdout(() =>
      trainCommand([join(dir, 'mail')], { explain: 5, quiet: true }),
    );
    expect(code).toBe(0);
    expect(text).toContain('strongest spam-or-phish features');
    expect(text).toContain('strongest ham features');
    expect(text).toContain('strongest phish features');
  });

  it('refuses a corpus without both ham and spam', async () => {
    expect(await trainCommand([join(dir, 'mail', 'pot')], { quiet: true })).toBe(1);
  });
});

describe('seg eval with a trained model', () => {
  it('prints a row per source and, with --exclude-trained, scores only held-back messages', async () => {
    const { code, text } = await captureStdout(() =>
      evalCommand([join(dir, 'mail')], { json: true, excludeTrained: true, model: join(dir, 'a.json') }),
    );
    expect(code).toBe(0);
    const out = JSON.parse(text);
    expect(out.sources.map((s: { name: string }) => s.name)).toEqual(['mail/lista', 'mail/pot']);
    const file = JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8'));
    const trained = file.trained.ham + file.trained.spam + file.trained.phish;
    expect(out.skippedTrained).toBe(trained);
    expect(out.ham.n + out.spam.n + out.phish.n).toBe(120 - trained);
    expect(out.sources[1].phish.n).toBe(out.phish.n);
  });
});
