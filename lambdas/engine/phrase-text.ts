// Text as the phrase rules of the content and impersonation scanners read it: lowercase, each run of
// whitespace one space. Nothing else: no trimming, no Unicode folding.

// The same text as /\s+/g -> ' ', without rewriting each single space between words: only runs of two
// or more and lone whitespace other than a space are replaced, a few matches instead of one per word.
const SPACE_RUNS = /\s{2,}|[^\S ]/g;

/** `text` lowercased, with every run of whitespace made one space. */
export function phraseText(text: string): string {
  return text.toLowerCase().replace(SPACE_RUNS, ' ');
}
