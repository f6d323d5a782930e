import { describe, expect, it } from 'vitest';
import {
  hashPart,
  PHISH_TIME_CUT,
  partOf,
  phishSampleNumber,
  sha256Hex,
  TRAIN_PERCENT,
  TUNE_PERCENT,
} from '../../../bin/commands/corpus-split.ts';

describe('corpus split', () => {
  it('puts a message in the training part by the sha256 of its bytes, the same way every time', () => {
    expect(sha256Hex(Buffer.from('abc'))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    // 0xba7816bf % 100 = 31 < 70
    expect(hashPart('ba7816bf')).toBe('train');
    expect(hashPart('00000047')).toBe('test'); // 71
    expect(partOf('hash70', 'a.eml', 'ham', Buffer.from('abc'))).toBe('train');
  });

  it('keeps about TRAIN_PERCENT percent for training', () => {
    let train = 0;
    for (let i = 0; i < 5000; i++)
      if (partOf('hash70', 'x', 'spam', Buffer.from(`message ${i}`)) === 'train') train++;
    expect(Math.abs(train / 50 - TRAIN_PERCENT)).toBeLessThan(3);
  });

  it('splits phish by sample number in the cross-time split and everything else by hash', () => {
    expect(phishSampleNumber('/c/phishing_pot/phish/sample-12.eml')).toBe(12);
    expect(phishSampleNumber('/c/other.eml')).toBeUndefined();
    const bytes = Buffer.from('abc'); // hash part: train
    expect(partOf('phish-time', `sample-${PHISH_TIME_CUT - 1}.eml`, 'phish', bytes)).toBe('train');
    expect(partOf('phish-time', `sample-${PHISH_TIME_CUT}.eml`, 'phish', bytes)).toBe('test');
    expect(partOf('phish-time', `sample-${PHISH_TIME_CUT}.eml`, 'spam', bytes)).toBe('train');
  });

  it('tunes on a validation slice of the training part and never touches the held-back part', () => {
    const parts = { train: 0, test: 0, unused: 0 };
    for (let i = 0; i < 5000; i++) {
      const bytes = Buffer.from(`message ${i}`);
      const tune = partOf('tune', 'x', 'spam', bytes);
      parts[tune]++;
      // Whatever tuning trains on or measures is in the shipped model's training part.
      if (tune !== 'unused') expect(partOf('hash70', 'x', 'spam', bytes)).toBe('train');
      else expect(partOf('hash70', 'x', 'spam', bytes)).toBe('test');
    }
    expect(Math.abs(parts.train / 50 - TUNE_PERCENT)).toBeLessThan(3);
    expect(Math.abs(parts.test / 50 - (TRAIN_PERCENT - TUNE_PERCENT))).toBeLessThan(3);
  });
});
