// The trained text classifier as a scanner: features of the parsed message (classifier/features.ts),
// scored by the model file built by `seg train` (model/classifier-v1.json, decoded once per process).
// It emits one symbol per message at most: CLASSIFIER_SPAM_<band> or CLASSIFIER_PHISH_<band>, the band
// being the probability that the message is spam or phish, or CLASSIFIER_HAM (CLASSIFIER_HAM_999) when
// that probability is under 1% (0.1%); the evidence names the probability and the tokens that moved it most.

import { footerStart, messageFeatureList, signatureStart } from '../classifier/features.ts';
import { loadModel, type Model, scoreHashed } from '../classifier/model.ts';
import modelFile from '../model/classifier-v1.json' with { type: 'json' };
import type { Scanner } from '../scanner.ts';
import type { SymbolName } from '../symbols.ts';
import type { ParsedMessage } from '../types.ts';

/** Probability bands, highest first: the symbol names the lowest band the probability reaches. */
export const BANDS = [
  [0.999, '999'],
  [0.99, '99'],
  [0.95, '95'],
  [0.8, '80'],
] as const;

// Below this many features there is too little text to judge (an empty or image-only message): the
// classifier abstains and leaves such mail to the heuristic scanners.
export const MIN_FEATURES = 8;

/**
 * A short note with nothing to click or open ("see you at 3", "Just a clean message.") is too little
 * for the classifier too: its learned prior alone reads it as spam (p near 0.95 with no evidence).
 * Under this many words before its signature (a link may sit only in the signature, or in a list
 * footer after it), with no attachment, it abstains; the BEC, impersonation and header scanners judge
 * exactly such mail, and the URL scanners still judge every link. Chosen on the tuning split: 1 of
 * 439 validation spam relied on the classifier there, no ham changed.
 */
export const MIN_NOTE_WORDS = 30;

/** Whether the message is a short note with no link of its own and no attachment. */
export function isShortPlainNote(parsed: ParsedMessage): boolean {
  if (parsed.attachments.length > 0) return false;
  const text = parsed.text;
  const sig = signatureStart(text);
  // The cheap test first: most messages are longer than a note.
  if (!fewerWords([parsed.subject, text.slice(0, sig)], MIN_NOTE_WORDS)) return false;
  // A link counts as the note's unless the signature (its first few lines: bounded work) shows it.
  const after = text.slice(sig);
  const signature = after.slice(0, 4000);
  if (parsed.links.some((l) => !signature.includes(l.href))) return false;
  // A "signature" as long as a note is the message itself set after a separator, a spammer's trick.
  const footer = footerStart(after);
  return fewerWords([footer >= 0 ? after.slice(0, footer) : after], MIN_NOTE_WORDS);
}

/** Whether `texts` have fewer than `n` words together (counting stops at `n`). */
function fewerWords(texts: readonly string[], n: number): boolean {
  const word = /\S+/g;
  let count = 0;
  for (const text of texts) {
    word.lastIndex = 0;
    while (word.exec(text)) if (++count >= n) return false;
  }
  return true;
}

let builtIn: Model | undefined;
/** The model shipped in the repository, decoded on first use. */
export function builtInModel(): Model {
  builtIn ??= loadModel(modelFile);
  return builtIn;
}

/** Below this probability of spam or phish the message reads as ham (CLASSIFIER_HAM, a small negative weight). */
export const HAM_BELOW = 0.01;
/**
 * Ten times surer (CLASSIFIER_HAM_999): enough to outweigh one heuristic's false alarm, such as a
 * newsletter named after the brand it writes about. On the tuning split no spam or phish (0 of 715)
 * scored under HAM_BELOW at all, and half the ham scored under this.
 */
export const SURE_HAM_BELOW = 0.001;

/** The symbol for a message's probabilities, or undefined when the classifier has no firm opinion. */
export function classifierSymbol(pBad: number, pPhish: number): SymbolName | undefined {
  if (pBad < SURE_HAM_BELOW) return 'CLASSIFIER_HAM_999';
  if (pBad < HAM_BELOW) return 'CLASSIFIER_HAM';
  const band = BANDS.find(([p]) => pBad >= p)?.[1];
  if (!band) return undefined;
  return `CLASSIFIER_${pPhish >= 0.5 ? 'PHISH' : 'SPAM'}_${band}` as SymbolName;
}

/** A classifier scanner over `model` (the built-in one unless given: `seg eval --model`). */
export function createClassifier(model: () => Model = builtInModel): Scanner {
  return {
    name: 'classifier',
    family: 'CLASSIFIER',
    async scan({ parsed }) {
      const features = messageFeatureList(parsed);
      if (features.length < MIN_FEATURES || isShortPlainNote(parsed)) return [];
      const s = scoreHashed(model(), features);
      const symbol = classifierSymbol(s.pBad, s.pPhish);
      if (!symbol) return [];
      const top = s.top.map(([f, c]) => `${JSON.stringify(f)} ${c > 0 ? '+' : ''}${c}`).join(', ');
      return [
        {
          symbol,
          evidence: `p=${s.pBad.toFixed(4)} phish=${s.pPhish.toFixed(2)}; ${top}`.slice(0, 400),
        },
      ];
    },
  };
}

export const classifier: Scanner = createClassifier();
