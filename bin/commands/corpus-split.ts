// The one definition of the corpus split: which labeled messages the classifier may learn from and
// which are held back for measuring it. `seg train`, `seg eval --exclude-trained` and `npm run bench`
// all ask this module, and the model file records which split trained it, so a held-back figure can
// never include a message the model has seen.
//
// "hash70" (the default): a message is in the training part when the first 8 hex digits of the
// sha256 of its file bytes, as an integer, modulo 100, are below 70. Keyed by content (the sha256
// column of the corpus MANIFEST.tsv), not by path, so a copy of a message (a symlink folder, a
// duplicate under another name) always falls on the same side.
//
// "phish-time": the cross-time check. phishing_pot samples are numbered roughly in the order they
// were collected; phish with sample number below PHISH_TIME_CUT train, the newer ones are held back.
// Every other message follows hash70.
//
// "tune": for choosing training settings without looking at the held-back part. The training part is
// cut again: buckets below TUNE_PERCENT train, the rest of the training part validates, and the
// held-back part is unused. A model trained so is for comparing settings, never for shipping.

import { createHash } from 'node:crypto';
import { basename } from 'node:path';

export const SPLITS = ['hash70', 'phish-time', 'tune'] as const;
export type SplitName = (typeof SPLITS)[number];
/** `unused`: neither trains nor is measured (the held-back part, under the tuning split). */
export type Part = 'train' | 'test' | 'unused';

/** Under "tune", hash buckets below this train; from it up to TRAIN_PERCENT they are the validation set. */
export const TUNE_PERCENT = 50;

/** Percent of messages in the training part. */
export const TRAIN_PERCENT = 70;
/**
 * phishing_pot sample numbers below this train in the "phish-time" split. The development third of
 * phishing_pot spans samples 1..3956; 2640 keeps the older two thirds for training.
 */
export const PHISH_TIME_CUT = 2640;

/** The part a message falls in under the hash split, from the sha256 (hex) of its file bytes. */
export function hashPart(sha256Hex: string): Part {
  return Number.parseInt(sha256Hex.slice(0, 8), 16) % 100 < TRAIN_PERCENT ? 'train' : 'test';
}

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** phishing_pot's "sample-<N>.eml" number, if the file is named that way. */
export function phishSampleNumber(file: string): number | undefined {
  const m = /^sample-(\d+)\.eml$/.exec(basename(file));
  return m ? Number(m[1]) : undefined;
}

/**
 * The part of one labeled message under `split`. `bytes` are the file's bytes as stored (the mbox
 * "From " line included), so the key equals the MANIFEST sha256.
 */
export function partOf(split: SplitName, file: string, label: string, bytes: Uint8Array): Part {
  if (split === 'tune') {
    // Settings are chosen on a validation slice of the training part; the held-back part stays unseen.
    const bucket = Number.parseInt(sha256Hex(bytes).slice(0, 8), 16) % 100;
    return bucket < TUNE_PERCENT ? 'train' : bucket < TRAIN_PERCENT ? 'test' : 'unused';
  }
  if (split === 'phish-time' && label === 'phish') {
    const n = phishSampleNumber(file);
    if (n !== undefined) return n < PHISH_TIME_CUT ? 'train' : 'test';
  }
  return hashPart(sha256Hex(bytes));
}

/** What a model file records about how it was trained, so eval can hold back the same messages. */
export interface SplitRecord {
  readonly name: SplitName;
  readonly trainPercent: number;
  readonly phishTimeCut?: number;
}

export function splitRecord(split: SplitName): SplitRecord {
  return split === 'phish-time'
    ? { name: split, trainPercent: TRAIN_PERCENT, phishTimeCut: PHISH_TIME_CUT }
    : { name: split, trainPercent: TRAIN_PERCENT };
}
