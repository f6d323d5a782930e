// The classifier's features: what a message is allowed to teach. Only things that travel from one
// mailbox, year and provider to another: the subject, the sender's display name, the body text (the
// HTML's text when there is no text part), the hosts and paths of links, attachment names and types,
// and a few structural facts. Never a Received host, a date, a Message-ID, a mailer, a list or
// provider header, an X-Spam verdict, or an address: those say which collection a message came from,
// not what it is. The headers are not even read here, so none can slip in.
//
// One function, used by training (bin/) and scoring (the scanner), so both see the same tokens.

import { parse } from 'tldts';
import type { ParsedMessage } from '../types.ts';
import { FNV_START, fnvOn, type HashedFeatures, hashFeature } from './model.ts';

const FNV_PRIME = 0x01000193;
const SPACE = 0x20;
// Fibonacci hashing's multiplier: spreads hashes and small keys over a table's slots.
const GOLDEN = 0x9e3779b1;

/** A lowercase ASCII letter or a digit: what a word is made of in ASCII text. */
const isAsciiWordChar = (c: number): boolean => (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39);

/** Whether `lower[begin, end)`, digits read as 0, is word `w`. */
function sameWord(w: string, lower: string, begin: number, end: number): boolean {
  if (w.length !== end - begin) return false;
  for (let k = 0; k < w.length; k++) {
    const c = lower.charCodeAt(begin + k);
    if (w.charCodeAt(k) !== (c > 0x30 && c <= 0x39 ? 0x30 : c)) return false;
  }
  return true;
}

/**
 * A message's features, deduplicated, in first-seen order: each one's hashFeature, and its name only
 * when asked. Scoring names only the strongest few, so the many word pairs are never joined into
 * strings (a new joined string is costly to hash, to store in a set and to read back char by char):
 * a pair is told apart by its words' numbers, and its hash carried on from its first word's.
 */
export class FeatureList implements HashedFeatures {
  readonly hashes: number[] = [];
  // A feature's name: heads[i], or heads[i] + " " + tails[i] for a word pair.
  private readonly heads: string[] = [];
  private readonly tails: (string | undefined)[] = [];
  // The names given whole (add). None can equal a word or pair from grams: those have no ":" (words
  // are letters and digits) or start with "s:", which no whole name does.
  private readonly whole = new Set<string>();

  get length(): number {
    return this.hashes.length;
  }

  name(i: number): string {
    const tail = this.tails[i];
    return tail === undefined ? this.heads[i]! : `${this.heads[i]} ${tail}`;
  }

  names(): string[] {
    return this.heads.map((_, i) => this.name(i));
  }

  /** Adds a feature by name, unless it is there already. */
  add(feature: string): void {
    if (this.whole.has(feature)) return;
    this.whole.add(feature);
    this.push(hashFeature(feature), feature, undefined);
  }

  /** Adds the unigram and bigram features of a word list (once per prefix), the prefix naming the field. */
  grams(prefix: string, ws: readonly string[]): void {
    const start = fnvOn(FNV_START, prefix);
    // Each distinct word's number, and FNV's state after prefix + word.
    const ids = new Map<string, number>();
    const states: number[] = [];
    // Pairs seen, as first * ws.length + second (a small integer: no string made).
    const pairs = new Set<number>();
    let previous = -1;
    for (let i = 0; i < ws.length; i++) {
      const w = ws[i]!;
      let id = ids.get(w);
      if (id === undefined) {
        id = states.length;
        ids.set(w, id);
        const state = fnvOn(start, w);
        states.push(state);
        this.push(state >>> 0, prefix + w, undefined);
      }
      if (previous >= 0) {
        const pair = previous * ws.length + id;
        if (!pairs.has(pair)) {
          pairs.add(pair);
          const state = fnvOn(Math.imul(states[previous]! ^ SPACE, FNV_PRIME), w);
          this.push(state >>> 0, prefix + ws[i - 1], w);
        }
      }
      previous = id;
    }
  }

  /**
   * grams(prefix, words(text).slice(0, max)), max at most MAX_WORDS. ASCII text (most mail) is read in
   * one pass that hashes each word as it goes and knows a word seen before by its hash and letters, so
   * only new words become strings; other text goes through words().
   */
  textGrams(prefix: string, text: string, max: number): void {
    const lower = text.toLowerCase();
    if (NON_ASCII.test(lower)) this.grams(prefix, wordsOfLower(lower).slice(0, max));
    else this.asciiGrams(prefix, lower, max);
  }

  private asciiGrams(prefix: string, lower: string, max: number): void {
    const start = fnvOn(FNV_START, prefix);
    // Words are separated, so a text has at most about half its length of them: every word's number
    // and every pair's key (first * most + second + 1) stay below these bounds.
    const most = Math.min(max, (lower.length >> 1) + 1);
    // Open-addressed tables at most half full: a word's number + 1 by its hash, a pair's key by itself.
    const bits = Math.max(4, 32 - Math.clz32(2 * most - 1));
    const shift = 32 - bits;
    const mask = (1 << bits) - 1;
    const wordSlots = new Int32Array(1 << bits);
    const pairSlots = new Int32Array(1 << bits);
    const ws: string[] = [];
    const states: number[] = [];
    let kept = 0;
    let previous = -1;
    let i = 0;
    while (i < lower.length && kept < max) {
      let c = lower.charCodeAt(i);
      if (!isAsciiWordChar(c)) {
        i++;
        continue;
      }
      const begin = i;
      let state = start;
      let digits = false;
      do {
        if (c > 0x30 && c <= 0x39) {
          c = 0x30;
          digits = true;
        }
        state = Math.imul(state ^ c, FNV_PRIME);
        c = ++i < lower.length ? lower.charCodeAt(i) : -1;
      } while (isAsciiWordChar(c));
      if (i - begin > MAX_WORD_LEN) continue;
      kept++;
      let slot = Math.imul(state, GOLDEN) >>> shift;
      let id = -1;
      for (let taken = wordSlots[slot]!; taken !== 0; taken = wordSlots[slot]!) {
        if (states[taken - 1] === state && sameWord(ws[taken - 1]!, lower, begin, i)) {
          id = taken - 1;
          break;
        }
        slot = (slot + 1) & mask;
      }
      if (id < 0) {
        id = ws.length;
        wordSlots[slot] = id + 1;
        const w = digits ? lower.slice(begin, i).replace(ASCII_DIGIT, '0') : lower.slice(begin, i);
        ws.push(w);
        states.push(state);
        this.push(state >>> 0, prefix + w, undefined);
      }
      if (previous >= 0) {
        const key = previous * most + id + 1;
        let pairSlot = Math.imul(key, GOLDEN) >>> shift;
        let seen = false;
        for (let taken = pairSlots[pairSlot]!; taken !== 0; taken = pairSlots[pairSlot]!) {
          if (taken === key) {
            seen = true;
            break;
          }
          pairSlot = (pairSlot + 1) & mask;
        }
        if (!seen) {
          pairSlots[pairSlot] = key;
          const w = ws[id]!;
          const pairState = fnvOn(Math.imul(states[previous]! ^ SPACE, FNV_PRIME), w);
          this.push(pairState >>> 0, prefix + ws[previous], w);
        }
      }
      previous = id;
    }
  }

  private push(hash: number, head: string, tail: string | undefined): void {
    this.hashes.push(hash);
    this.heads.push(head);
    this.tails.push(tail);
  }
}

// Bounded work per message: the start of the body says what the message is.
export const MAX_BODY_CHARS = 12_000;
export const MAX_WORDS = 1500;
const MAX_LINKS = 40;
const MAX_WORD_LEN = 24;

// Words: letters and digits; digits become 0, so "2002" and "2026" (era) or an order number say only "a
// four-digit number". Apostrophes inside words are dropped, so "don't" is "dont" in every corpus.
const WORD = /[\p{L}\p{N}]+/gu;
const DIGIT = /\p{N}/gu;
// Email addresses carry no meaning that generalises and do carry the corpus owners' (and a honeypot's
// "phishing@pot") addresses: they are removed before words are read.
export const EMAIL = /[^\s<>()"',;:@]{1,64}@[\w.-]{1,255}/g;
const NOT_LOCAL_PART = /[\s<>()"',;:@]/;
const DOMAIN_CHAR = /[\w.-]/;

/**
 * `s.replace(EMAIL, ' ')`, found from each @ outwards: the regex tries up to 64 characters at every
 * position of the text before it looks for an @, which cost more than the rest of the features.
 */
export function withoutEmails(s: string): string {
  let at = s.indexOf('@');
  if (at < 0) return s;
  let out = '';
  // Where the text not yet copied starts: a match never begins inside the previous one.
  let copied = 0;
  while (at >= 0) {
    let start = at;
    while (start > copied && at - start < 64 && !NOT_LOCAL_PART.test(s[start - 1]!)) start--;
    let end = at + 1;
    while (end < s.length && end - at <= 255 && DOMAIN_CHAR.test(s[end]!)) end++;
    if (start < at && end > at + 1) {
      out += `${s.slice(copied, start)} `;
      copied = end;
      at = s.indexOf('@', end);
    } else at = s.indexOf('@', at + 1);
  }
  return out + s.slice(copied);
}
const URL_IN_TEXT = /\b(?:https?:\/\/|www\.)[^\s<>"']{1,2048}/gi;
// A mailing list's footer ("___ / Foo mailing list / listinfo ..."), added by the list server, not
// written by the sender: it says which list, i.e. which collection. Cut at the last separator line
// that a "mailing list" line follows.
const LIST_FOOTER = /\n_{10,}\s*\n(?=[^\n]{0,120}mailing list)/gi;

// Most text is ASCII, where \p{L} and \p{N} are a-z (once lowercased) and 0-9: no Unicode tables then.
const NON_ASCII = /[\u0080-\uffff]/;
const ASCII_WORD = /[a-z0-9]+/g;
const ASCII_DIGIT = /[1-9]/g;
// A UTF-16 surrogate: a character outside the BMP, which "0" would replace by one code unit, not two.
const SURROGATE = /[\uD800-\uDFFF]/;
// Text past ASCII is mostly ASCII still: only its runs of other characters need the Unicode classes.
// Those runs keep their letters and digits (digits as 0) and make every other character a space, so
// that a word is then any run of ASCII letters, digits and characters past ASCII.
const NON_ASCII_RUN = /[\u0080-\uffff]+/g;
const NOT_WORD_CHAR = /[^\p{L}\p{N}]/gu;
const MAPPED_WORD = /[a-z0-9\u0080-\uffff]+/g;
const wordCharsOnly = (run: string): string => run.replace(DIGIT, '0').replace(NOT_WORD_CHAR, ' ');

export function words(text: string): string[] {
  return wordsOfLower(text.toLowerCase());
}

/** words() of text already lowercased. */
function wordsOfLower(lower: string): string[] {
  // Digits become 0 in one pass over the text, not one per word: the same words, as a digit is a word
  // character either way, and of the same lengths unless a digit lies outside the BMP (then per word).
  const ascii = !NON_ASCII.test(lower);
  const perWord = !ascii && SURROGATE.test(lower);
  const found =
    (ascii
      ? lower.replace(ASCII_DIGIT, '0').match(ASCII_WORD)
      : perWord
        ? lower.match(WORD)
        : lower.replace(ASCII_DIGIT, '0').replace(NON_ASCII_RUN, wordCharsOnly).match(MAPPED_WORD)) ?? [];
  const out: string[] = [];
  for (const w of found) {
    if (w.length > MAX_WORD_LEN) continue;
    out.push(perWord ? w.replace(DIGIT, '0') : w);
    if (out.length >= MAX_WORDS) break;
  }
  return out;
}

/** Where a list server's footer starts in `text`, or -1. */
export function footerStart(text: string): number {
  let cut = -1;
  for (const m of text.matchAll(LIST_FOOTER)) cut = m.index;
  return cut;
}

// The signature separator: a line of exactly "-- " (RFC 3676). A bare "--" line is not one: senders
// also use it to set off the body itself.
const SIGNATURE = /\n-- \r?\n/;

/** Where the sender's signature starts in `text` (the text's length when there is none). */
export function signatureStart(text: string): number {
  return SIGNATURE.exec(text.slice(0, MAX_BODY_CHARS * 2))?.index ?? text.length;
}

/** The sender's own text: addresses and links removed, a list server's footer cut off, bounded. */
export function cleanBody(text: string): string {
  let body = text.slice(0, MAX_BODY_CHARS * 2);
  const cut = footerStart(body);
  if (cut >= 0) body = body.slice(0, cut);
  return withoutEmails(body.slice(0, MAX_BODY_CHARS)).replace(URL_IN_TEXT, ' ');
}

function addTextFeatures(out: FeatureList, subject: string, body: string): void {
  out.textGrams('s:', withoutEmails(subject), 40);
  out.textGrams('', cleanBody(body), MAX_WORDS);
}

/** Features of a subject and body: what a text-only training corpus can also give. */
export function textFeatures(subject: string, body: string): Set<string> {
  const out = new FeatureList();
  addTextFeatures(out, subject, body);
  return new Set(out.names());
}

/** Link features: the registrable domain, its public suffix, host words, path words. */
function linkFeatures(out: FeatureList, hrefs: readonly string[]): void {
  const seen = new Set<string>();
  for (const href of hrefs) {
    if (seen.size >= MAX_LINKS) break;
    if (seen.has(href)) continue;
    seen.add(href);
    let url: URL;
    try {
      url = new URL(href);
    } catch {
      out.add('u:unparseable');
      continue;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      out.add(`u:scheme:${url.protocol.slice(0, 12)}`);
      continue;
    }
    const host = url.hostname.toLowerCase();
    if (/^[\d.]+$|^\[/.test(host)) {
      out.add('u:ip');
    } else {
      // One reading of the host for both (getDomain and getPublicSuffix would each parse it).
      const info = parse(host);
      out.add(`u:d:${info.domain ?? host}`);
      out.add(`u:tld:${info.publicSuffix ?? ''}`);
      for (const w of words(host.replace(/\./g, ' '))) out.add(`u:h:${w}`);
    }
    // The path and query, without addresses: a phishing kit's "login.php", a tracker's "unsubscribe".
    const rest = withoutEmails(`${url.pathname} ${url.search}`);
    for (const w of words(rest).slice(0, 12)) if (!/^0+$/.test(w)) out.add(`u:p:${w}`);
  }
}

/** Every feature of a parsed message, as strings (deduplicated, in a stable order). */
export function messageFeatures(parsed: ParsedMessage): string[] {
  return messageFeatureList(parsed).names();
}

/** messageFeatures, each with its hashFeature, named only when asked. */
export function messageFeatureList(parsed: ParsedMessage): FeatureList {
  const out = new FeatureList();
  addTextFeatures(out, parsed.subject, parsed.text);
  for (const w of words(withoutEmails(parsed.from?.name ?? '')).slice(0, 8)) out.add(`n:${w}`);
  // Links in a list server's footer are the list's, not the sender's.
  const cut = footerStart(parsed.text.slice(0, MAX_BODY_CHARS * 2));
  const footer = cut >= 0 ? parsed.text.slice(cut, cut + 2000) : '';
  linkFeatures(
    out,
    parsed.links.map((l) => l.href).filter((href) => !footer.includes(href)),
  );
  for (const a of parsed.attachments.slice(0, 20)) {
    out.add(`a:type:${a.contentType.toLowerCase().slice(0, 60)}`);
    const ext = /\.([a-z0-9]{1,8})$/i.exec(a.filename ?? '')?.[1];
    if (ext) out.add(`a:ext:${ext.toLowerCase()}`);
  }
  // Structure is left to the heuristic scanners: "HTML or plain text", "how many links" and body
  // length separate 2002 from 2023 mail (the development ham is plain text, its phish HTML) far
  // better than ham from spam, so as features they learned the era. One fact that is era-neutral:
  if (!parsed.subject.trim()) out.add('x:no-subject');
  return out;
}
