// One htmlparser2 pass over an html body gives all parse needs of it: the text a reader sees, every
// link, and how much text the html hides. The text used to come from html-to-text, a second pass of
// its own (a DOM, a selector tree, a formatter per element) that cost more than the links and the
// counts together. The text keeps what the classifier and the text rules were trained and tuned on in
// html-to-text's output: block elements break lines, <br> breaks a line, whitespace (zero-width space
// included) collapses, entities are decoded, style and script are dropped, only the body is read when
// there is one, table cells run together as html-to-text runs them, a link's href follows its text
// (`text [href]`, mailto: dropped, #anchors not shown), an image reads `alt [src]`, a list item starts
// with `* ` or `1. `. It leaves out html-to-text's layout: no wrapping at 80 columns, no upper-cased
// headings, no rules or quote marks.

import { Parser, type QuoteType, Tokenizer } from 'htmlparser2';
import type { LinkSource, ParsedLink } from './types.ts';

// Links kept in full (each with its anchor text): legitimate newsletters carry a few hundred at most.
export const MAX_LINKS = 1000;
// Beyond MAX_LINKS a link is kept only when its host (with its source and claimed text domain) is new,
// up to this many more: padding with 1,000 harmless links cannot push a phishing link out of sight,
// and a million distinct hosts still cost bounded work (issue 7: limits never make mail look cleaner).
export const MAX_LINK_HOSTS = 5000;
// htmlparser2 keeps open elements in an array it unshifts, so nesting costs depth squared: past this
// depth (real mail nests tables a few dozen deep) the parser is restarted on the rest of the html.
export const MAX_HTML_DEPTH = 1000;
const HTML_CHUNK_CHARS = 16_384;
// Style text read for CSS url(): real stylesheets are a few KB to a few hundred KB.
const MAX_CSS_CHARS = 200_000;
// Anchor text kept per link: enough to show a domain, bounded so one giant anchor cannot bloat results.
const MAX_ANCHOR_TEXT = 300;
const MAX_HREF = 2048;

// Bare URLs in text. Bounded: no nested quantifiers, one character class per run, length-capped.
const TEXT_URL = /\bhttps?:\/\/[^\s<>"'`{}|\\^\][]{1,2048}/gi;
// CSS url(...) values in style attributes and <style> blocks; one bounded character class.
const CSS_URL = /url\(\s*['"]?([^'")\s]{1,2048})/gi;
// <meta http-equiv="refresh" content="0; url=...">.
const REFRESH_URL = /url\s*=\s*['"]?([^'"\s]{1,2048})/i;
// The authority of an absolute URL, for deduplication by host: no backtracking beyond one class.
const AUTHORITY = /^([a-z][a-z0-9+.-]{0,31}:)?(?:\/\/([^/?#\\]{0,512}))?/i;

/** Where a link was found. */
// A Map: a tag name is a fresh string each time, which a Map looks up faster than an object does.
const SRC_ATTRS = new Map<string, { attr: string; source: LinkSource }>([
  ['img', { attr: 'src', source: 'img' }],
  ['script', { attr: 'src', source: 'script' }],
  ['iframe', { attr: 'src', source: 'iframe' }],
  ['frame', { attr: 'src', source: 'iframe' }],
  ['embed', { attr: 'src', source: 'iframe' }],
  ['object', { attr: 'data', source: 'iframe' }],
  ['form', { attr: 'action', source: 'form' }],
]);

// The attributes the reading looks at. htmlparser2 keeps every attribute of a tag in a fresh object,
// and most of an email's (width, class, border, cellpadding...) are none of these: they are dropped
// as they end, before htmlparser2 stores them (a fifth of the parser's own work on email html).
const READ_ATTRIBUTES = new Set([
  'style',
  'hidden',
  'color',
  'bgcolor',
  'background',
  'href',
  'src',
  'data',
  'action',
  'type',
  'http-equiv',
  'content',
  'start',
  'alt',
]);

/**
 * An htmlparser2 Parser that hands its tags only the attributes in READ_ATTRIBUTES: the value of any
 * other is neither built (its pieces sliced out of the html and joined) nor stored.
 */
class ReadingParser extends Parser {
  // Whether the attribute being read is one the reading looks at.
  private readsAttribute = false;

  override onattribname(start: number, endIndex: number): void {
    super.onattribname(start, endIndex);
    // The name of the attribute is htmlparser2's own (private) state.
    this.readsAttribute = READ_ATTRIBUTES.has((this as unknown as { attribname: string }).attribname);
  }

  override onattribdata(start: number, endIndex: number): void {
    if (this.readsAttribute) super.onattribdata(start, endIndex);
  }

  override onattribentity(cp: number): void {
    if (this.readsAttribute) super.onattribentity(cp);
  }

  override onattribend(quote: QuoteType, endIndex: number): void {
    if (this.readsAttribute) super.onattribend(quote, endIndex);
    else this.endIndex = endIndex;
  }
}

/** htmlparser2's Tokenizer with the (private) state and steps ReadingTokenizer reads and replaces. */
interface TokenizerSteps {
  buffer: string;
  index: number;
  offset: number;
  readonly decodeEntities: boolean;
  write(chunk: string): void;
  stateText(c: number): void;
  stateInTagName(c: number): void;
  stateInClosingTagName(c: number): void;
  stateBeforeAttributeName(c: number): void;
  stateInAttributeName(c: number): void;
  handleInAttributeValue(c: number, quote: number): void;
  fastForwardTo(c: number): boolean;
}
const TokenizerBase = Tokenizer as unknown as new (
  ...args: ConstructorParameters<typeof Tokenizer>
) => TokenizerSteps;

const LT = 0x3c;
const GT = 0x3e;
const AMP = 0x26;
const DQ = 0x22;
const EQ = 0x3d;
const SLASH = 0x2f;
// htmlparser2's whitespace, and the characters that end a tag's name or an attribute's.
const isTagSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0c || c === 0x0d;
const endsTagSection = (c: number): boolean => c === SLASH || c === GT || isTagSpace(c);

/**
 * htmlparser2's Tokenizer, skipping with indexOf where it steps one character at a time through a run
 * that cannot change its state: text up to the next `<` or `&`, a quoted attribute value up to its
 * quote or the next `&`, and whatever it already fast-forwards through (style and script text, comments).
 * Tag and attribute names, and the blanks between attributes, are stepped through in a tight loop
 * instead of one turn of the Tokenizer's state loop per character. Each step is then taken as the
 * Tokenizer takes it on the character the run ends at, so the events are the same, at the same offsets.
 */
export class ReadingTokenizer extends TokenizerBase {
  // The first `<`, `&`, `"` and `'` at or after `from` in the current buffer (-1: none), kept between
  // calls, so a long run of entities, or a value whose quote never comes, is not searched to its end
  // again at each step (-2: not searched yet).
  private from = -1;
  private lt = -2;
  private amp = -2;
  private dq = -2;
  private sq = -2;

  override write(chunk: string): void {
    this.from = -1;
    super.write(chunk);
  }

  /** The buffer offset of the first `c` (`<`, `&`, `"` or `'`) at or after `from`, or -1. */
  private next(from: number, c: number): number {
    if (from < this.from || this.from < 0) this.lt = this.amp = this.dq = this.sq = -2;
    this.from = from;
    const at = c === LT ? this.lt : c === AMP ? this.amp : c === DQ ? this.dq : this.sq;
    if (at >= from || at === -1) return at;
    const found = this.buffer.indexOf(String.fromCharCode(c), from);
    if (c === LT) this.lt = found;
    else if (c === AMP) this.amp = found;
    else if (c === DQ) this.dq = found;
    else this.sq = found;
    return found;
  }

  /** The first of `a` and `b` (buffer offsets, -1 for none). */
  private static first(a: number, b: number): number {
    return a < 0 ? b : b < 0 ? a : Math.min(a, b);
  }

  /** Moves to buffer offset `at` and gives its character, or to the buffer's end (-1) when `at` is -1. */
  private moveTo(at: number): number {
    if (at < 0) {
      // The parse loop steps past this, to the buffer's end.
      this.index = this.buffer.length + this.offset - 1;
      return -1;
    }
    this.index = at + this.offset;
    return this.buffer.charCodeAt(at);
  }

  override stateText(c: number): void {
    if (c !== LT && c !== AMP && this.decodeEntities) {
      const from = this.index - this.offset + 1;
      c = this.moveTo(ReadingTokenizer.first(this.next(from, LT), this.next(from, AMP)));
      if (c < 0) return;
    }
    super.stateText(c);
  }

  /**
   * Steps from the current character past those `stays` holds for, in the current buffer: the character
   * it stops at (its index now), or -1 at the buffer's end (the parse loop then steps past it).
   */
  private skipWhile(c: number, stays: (c: number) => boolean): number {
    if (!stays(c)) return c;
    const buffer = this.buffer;
    let at = this.index - this.offset + 1;
    while (at < buffer.length && stays(buffer.charCodeAt(at))) at++;
    return this.moveTo(at < buffer.length ? at : -1);
  }

  override stateInTagName(c: number): void {
    c = this.skipWhile(c, inTagName);
    if (c >= 0) super.stateInTagName(c);
  }

  override stateInClosingTagName(c: number): void {
    c = this.skipWhile(c, inClosingTagName);
    if (c >= 0) super.stateInClosingTagName(c);
  }

  override stateBeforeAttributeName(c: number): void {
    c = this.skipWhile(c, isTagSpace);
    if (c >= 0) super.stateBeforeAttributeName(c);
  }

  override stateInAttributeName(c: number): void {
    c = this.skipWhile(c, inAttributeName);
    if (c >= 0) super.stateInAttributeName(c);
  }

  override handleInAttributeValue(c: number, quote: number): void {
    if (c !== quote && c !== AMP && this.decodeEntities) {
      const from = this.index - this.offset + 1;
      c = this.moveTo(ReadingTokenizer.first(this.next(from, quote), this.next(from, AMP)));
      if (c < 0) return;
    }
    super.handleInAttributeValue(c, quote);
  }

  override fastForwardTo(c: number): boolean {
    return this.moveTo(this.buffer.indexOf(String.fromCharCode(c), this.index - this.offset + 1)) >= 0;
  }
}

// The characters the Tokenizer steps over without a change in these states.
const inTagName = (c: number): boolean => !endsTagSection(c);
const inClosingTagName = (c: number): boolean => c !== GT && !isTagSpace(c);
const inAttributeName = (c: number): boolean => c !== EQ && !endsTagSection(c);

/** The host a link points to (lowercase, no userinfo or port), or its scheme for non-network URLs. */
export function linkHost(href: string): string {
  const m = AUTHORITY.exec(href);
  if (!m) return '';
  // No authority (mailto:, data:, a relative path): the scheme, or nothing, stands in for the host.
  if (m[2] === undefined) return (m[1] ?? '').toLowerCase();
  const authority = m[2].slice(m[2].lastIndexOf('@') + 1);
  return authority.replace(/:\d*$/, '').toLowerCase();
}

// Inline styles that hide what they style. Read on at most STYLE_CHARS of a style attribute.
const HIDING =
  /(?:^|[;\s"'])(?:display\s*:\s*none|visibility\s*:\s*hidden|opacity\s*:\s*0(?:\.0+)?\s*(?:;|$)|font-size\s*:\s*(?:0|1)(?:\.\d+)?\s*(?:px|pt|em|%)?\s*(?:;|$|!))/i;
const COLLAPSED = /(?:^|[;\s])(?:max-)?height\s*:\s*0/i;
const OVERFLOW_HIDDEN = /overflow\s*:\s*hidden/i;
const STYLE_COLOR = /(?:^|[;\s"'])color\s*:\s*([^;!"']{1,40})/i;
const STYLE_BG = /background(?:-color)?\s*:\s*([^;!"']{1,60})/i;
const STYLE_CHARS = 1000;
const NAMED_COLORS: Record<string, string> = { white: '#ffffff', black: '#000000', red: '#ff0000' };
// Elements whose text no reader sees: not counted as visible or hidden.
const NO_TEXT_ELEMENTS = new Set(['style', 'script', 'title', 'head', 'noscript']);

// The text: elements html-to-text leaves out (htmlparser2 reads their content as text), and the line
// breaks it sets before and after a block ([before, after]); every other element is inline.
const SKIPPED_ELEMENTS = new Set(['style', 'script']);
const BLOCK_BREAKS = new Map<string, readonly [number, number]>([
  ['article', [1, 1]],
  ['aside', [1, 1]],
  ['div', [1, 1]],
  ['footer', [1, 1]],
  ['form', [1, 1]],
  ['header', [1, 1]],
  ['main', [1, 1]],
  ['nav', [1, 1]],
  ['section', [1, 1]],
  ['blockquote', [2, 2]],
  ['hr', [2, 2]],
  ['ol', [2, 2]],
  ['ul', [2, 2]],
  ['p', [2, 2]],
  ['pre', [2, 2]],
  ['table', [2, 2]],
  ['h1', [3, 2]],
  ['h2', [3, 2]],
  ['h3', [3, 2]],
  ['h4', [2, 2]],
  ['h5', [2, 2]],
  ['h6', [2, 2]],
]);

/** What the reading does with an element, for the elements it does anything with by name alone. */
interface TagRole {
  /** Its text is no reader's (NO_TEXT_ELEMENTS). */
  readonly noText: boolean;
  /** html-to-text leaves it out (SKIPPED_ELEMENTS). */
  readonly skipped: boolean;
  readonly block?: readonly [number, number];
  readonly src?: { readonly attr: string; readonly source: LinkSource };
}
// Each element's role, looked up once per tag where the sets and maps above were looked up one by one:
// most elements (span, td, tr, font...) have none.
const TAG_ROLES = new Map<string, TagRole>();
for (const name of [...NO_TEXT_ELEMENTS, ...SKIPPED_ELEMENTS, ...BLOCK_BREAKS.keys(), ...SRC_ATTRS.keys()]) {
  const block = BLOCK_BREAKS.get(name);
  const src = SRC_ATTRS.get(name);
  TAG_ROLES.set(name, {
    noText: NO_TEXT_ELEMENTS.has(name),
    skipped: SKIPPED_ELEMENTS.has(name),
    ...(block ? { block } : {}),
    ...(src ? { src } : {}),
  });
}

// html-to-text's whitespace: a zero-width space separates words as a space does; a no-break space does not.
const WHITESPACE = /[ \t\r\n\f\u200b]+/g;
const isWhitespace = (c: number): boolean =>
  c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x0c || c === 0x200b;

/** What one pass over a text node finds: the counts and the bounds its stats and its text need. */
export interface TextScan {
  /** Characters that are not whitespace as /\s/ has it. */
  nonSpace: number;
  /** The first and past the last character that is not html-to-text's whitespace (from -1: none). */
  from: number;
  to: number;
  /** Whitespace between them to collapse: a run of two or more, or one that is not a space. */
  collapse: boolean;
}

/** Whether `c` is whitespace as /\s/ has it. */
const isJsSpace = (c: number): boolean =>
  (c >= 0x09 && c <= 0x0d) ||
  c === 0x20 ||
  c === 0xa0 ||
  c === 0x1680 ||
  (c >= 0x2000 && c <= 0x200a) ||
  c === 0x2028 ||
  c === 0x2029 ||
  c === 0x202f ||
  c === 0x205f ||
  c === 0x3000 ||
  c === 0xfeff;

/** Reads `t` once into `scan`, without a copy. */
export function scanText(t: string, scan: TextScan): void {
  let nonSpace = 0;
  let from = -1;
  let last = -1;
  let collapseAt = -1;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    // Most characters are printable ASCII (or C1): whitespace in neither sense.
    if (c > 0x20 && c < 0xa0) {
      nonSpace++;
      if (from < 0) from = i;
      last = i;
      continue;
    }
    if (!isJsSpace(c)) nonSpace++;
    if (!isWhitespace(c)) {
      if (from < 0) from = i;
      last = i;
    } else if (from >= 0 && collapseAt < 0 && (c !== 0x20 || isWhitespace(t.charCodeAt(i + 1)))) {
      collapseAt = i;
    }
  }
  scan.nonSpace = nonSpace;
  scan.from = from;
  scan.to = last + 1;
  // The first run to collapse after the first word: it counts only if a word follows it.
  scan.collapse = collapseAt >= 0 && collapseAt < last;
}

/** A CSS color as #rrggbb (white, #fff, rgb(255,255,255) -> #ffffff), or undefined for anything else. */
export function cssColor(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const v = value.trim().toLowerCase();
  const hex = /#([0-9a-f]{6}|[0-9a-f]{3})\b/.exec(v)?.[1];
  if (hex) return `#${hex.length === 3 ? [...hex].map((c) => c + c).join('') : hex}`;
  const rgb = /rgba?\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})/.exec(v);
  if (rgb)
    return `#${rgb
      .slice(1, 4)
      .map((n) => Number(n).toString(16).padStart(2, '0'))
      .join('')}`;
  return NAMED_COLORS[/^[a-z]+/.exec(v)?.[0] ?? ''];
}

/** What an inline style says of its element: whether it hides it, and the colors it sets (raw and read). */
interface StyleReading {
  readonly hides: boolean;
  readonly color: string | undefined;
  readonly colorValue: string | undefined;
  readonly bg: string | undefined;
  readonly bgValue: string | undefined;
}

// Styles read already: a message (and the next, from the same template) repeats a few styles on many
// elements, each read by four regular expressions. Bounded: the styles come from the mail.
const styleReadings = new Map<string, StyleReading>();
const MAX_STYLE_READINGS = 2000;

/** What `style` (at most STYLE_CHARS of a style attribute) says, read once per distinct style. */
function readStyle(style: string): StyleReading {
  let read = styleReadings.get(style);
  if (read) return read;
  const color = STYLE_COLOR.exec(style)?.[1];
  const bg = STYLE_BG.exec(style)?.[1];
  read = {
    hides: style !== '' && (HIDING.test(style) || (COLLAPSED.test(style) && OVERFLOW_HIDDEN.test(style))),
    color,
    colorValue: cssColor(color),
    bg,
    bgValue: cssColor(bg),
  };
  if (styleReadings.size >= MAX_STYLE_READINGS) styleReadings.clear();
  styleReadings.set(style, read);
  return read;
}

/** What the html shows and hides, counted in the same pass as its links. */
export interface HtmlStats {
  /** Non-space characters of text a reader sees. */
  readonly visibleChars: number;
  /** Non-space characters hidden by display:none, visibility:hidden, zero opacity, 0-1px fonts, collapsed boxes or text colored as its background. */
  readonly hiddenChars: number;
  readonly images: number;
  /** The start of the hidden text, for evidence. */
  readonly hiddenSample?: string;
}

interface Frame {
  readonly hidden: boolean;
  readonly color: string | undefined;
  readonly bg: string;
}

interface LinkDraft {
  href: string;
  text: string;
  source: LinkSource;
  password?: boolean;
}

/**
 * The links of a message as they are found: the first MAX_LINKS kept in full, then one per new host
 * (with its source and claimed text domain), up to MAX_LINK_HOSTS more. `total` counts every link seen.
 */
export class LinkList {
  readonly links: ParsedLink[] = [];
  truncated = false;
  total = 0;
  private readonly seenHref = new Set<string>();
  private readonly seenKey = new Set<string>();

  add(d: LinkDraft): void {
    const href = d.href.trim().slice(0, MAX_HREF);
    if (!href) return;
    this.total++;
    const text = d.text.replace(/\s+/g, ' ').trim().slice(0, MAX_ANCHOR_TEXT);
    const key = `${d.source}|${linkHost(href)}|${text.includes('.') && !text.includes(' ') ? text.toLowerCase() : ''}|${d.password ? 'p' : ''}`;
    if (this.links.length >= MAX_LINKS) {
      if (this.seenKey.has(key)) return;
      if (this.links.length >= MAX_LINKS + MAX_LINK_HOSTS) {
        this.truncated = true;
        return;
      }
    } else if (this.seenHref.has(href) && this.seenKey.has(key)) {
      return;
    }
    this.seenKey.add(key);
    this.seenHref.add(href);
    this.links.push({
      href,
      source: d.source,
      ...(text ? { text } : {}),
      ...(d.password ? { password: true } : {}),
    });
  }

  /** Adds the bare URLs of `text` not seen already, as links from the text. */
  addTextUrls(text: string): void {
    for (const m of text.matchAll(TEXT_URL)) {
      const href = m[0].replace(/[.,;:!?)>]+$/, '');
      if (!this.seenHref.has(href)) this.add({ href, text: '', source: 'text' });
      if (this.truncated) break;
    }
  }

  /** A list with the same links, to add to without changing this one. */
  copy(): LinkList {
    const out = new LinkList();
    out.links.push(...this.links);
    out.truncated = this.truncated;
    out.total = this.total;
    for (const href of this.seenHref) out.seenHref.add(href);
    for (const key of this.seenKey) out.seenKey.add(key);
    return out;
  }
}

/** What one pass over an html body found. */
export interface HtmlReading {
  /** The text a reader sees ('' unless asked for). */
  readonly text: string;
  readonly links: LinkList;
  readonly stats: HtmlStats;
  /** The html nested deeper than MAX_HTML_DEPTH: the parser was restarted past that depth. */
  readonly tooDeep: boolean;
}

/**
 * Reads `html` once: every URL (a/area href, img/script/iframe src, form action, meta refresh, CSS
 * url(), background attributes) with where it came from, what it shows and hides, and, when `withText`,
 * its text.
 */
export function readHtml(html: string, withText: boolean): HtmlReading {
  const list = new LinkList();
  const add = (d: LinkDraft): void => list.add(d);
  let tooDeep = false;
  let visibleChars = 0;
  let hiddenChars = 0;
  let images = 0;
  let hiddenSample = '';

  let open: LinkDraft | undefined;
  let form: LinkDraft | undefined;
  let inStyle = false;
  let cssChars = 0;
  const css = (s: string | undefined, source: LinkSource): void => {
    if (!s || cssChars >= MAX_CSS_CHARS) return;
    const chunk = s.slice(0, MAX_CSS_CHARS - cssChars);
    cssChars += chunk.length;
    if (!chunk.includes('url(')) return;
    for (const m of chunk.matchAll(CSS_URL)) add({ href: m[1]!, text: '', source });
  };
  let depth = 0;
  // One frame per open element (htmlparser2 closes void elements at once, so pushes and pops pair up).
  const root: Frame = { hidden: false, color: undefined, bg: '#ffffff' };
  let frames: Frame[] = [];
  let noText = 0;

  // The text, as chunks; a break or a space waits until the next word (none at the start or the end).
  const out: string[] = [];
  let breaks = 0;
  let space = false;
  const emit = (s: string): void => {
    if (out.length) {
      if (breaks) out.push(breaks === 1 ? '\n' : breaks === 2 ? '\n\n' : '\n\n\n');
      else if (space) out.push(' ');
    }
    breaks = 0;
    space = false;
    out.push(s);
  };
  const lineBreaks = (n: number): void => {
    if (n > breaks) breaks = n;
  };
  // Elements html-to-text leaves out, open; <pre>s open (their whitespace is kept).
  let skipped = 0;
  let pre = 0;
  // The open links of the text (href as shown, the count of words written when it opened), and lists.
  const anchors: { shown: string; wordsBefore: number }[] = [];
  let wordsWritten = 0;
  const lists: { ordered: boolean; next: number; depth: number }[] = [];
  // With a <body>, only the body's text is read (html-to-text's choice): the chunks written inside one.
  let inBody = 0;
  let bodyFrom = 0;
  const bodyRanges: [number, number][] = [];

  const scan: TextScan = { nonSpace: 0, from: -1, to: 0, collapse: false };
  const newParser = (): Parser =>
    new ReadingParser(
      {
        onopentag(name, attrs) {
          depth++;
          const parent = frames[frames.length - 1] ?? root;
          const style = attrs['style']?.slice(0, STYLE_CHARS) ?? '';
          if (style === '' && attrs['hidden'] === undefined && !attrs['color'] && !attrs['bgcolor']) {
            // Most elements style nothing: they share their parent's frame.
            frames.push(parent);
          } else {
            const read = readStyle(style);
            frames.push({
              hidden: parent.hidden || read.hides || attrs['hidden'] !== undefined,
              color: (read.color !== undefined ? read.colorValue : cssColor(attrs['color'])) ?? parent.color,
              bg: (read.bg !== undefined ? read.bgValue : cssColor(attrs['bgcolor'])) ?? parent.bg,
            });
          }
          const role = TAG_ROLES.get(name);
          if (role?.noText) noText++;
          if (name === 'img') images++;
          if (withText) openText(name, role, attrs);
          css(attrs['style'], 'css');
          if (attrs['background']) add({ href: attrs['background'], text: '', source: 'img' });
          if (name === 'a' || name === 'area') {
            if (open) add(open);
            const href = attrs['href']?.trim();
            open = href ? { href: href.slice(0, MAX_HREF), text: '', source: name } : undefined;
            if (open && name === 'area') {
              add(open);
              open = undefined;
            }
            return;
          }
          if (name === 'style') inStyle = true;
          else if (name === 'input' && form && attrs['type']?.toLowerCase() === 'password')
            form.password = true;
          else if (name === 'meta' && attrs['http-equiv']?.toLowerCase() === 'refresh') {
            const url = REFRESH_URL.exec(attrs['content'] ?? '')?.[1];
            if (url) add({ href: url, text: '', source: 'meta' });
          } else {
            const src = role?.src;
            const value = src ? attrs[src.attr]?.trim() : undefined;
            if (src && value) {
              if (src.source === 'form') {
                if (form) add(form);
                form = { href: value, text: '', source: 'form' };
              } else add({ href: value, text: '', source: src.source });
            }
          }
        },
        ontext(t) {
          if (noText === 0 || (withText && skipped === 0 && pre === 0)) scanText(t, scan);
          if (noText === 0) {
            const chars = scan.nonSpace;
            const top = frames[frames.length - 1] ?? root;
            if (top.hidden || (top.color !== undefined && top.color === top.bg)) {
              hiddenChars += chars;
              if (chars && hiddenSample.length < 80) hiddenSample += `${t.trim()} `;
            } else visibleChars += chars;
          }
          if (withText && skipped === 0) writeText(t);
          if (inStyle) css(t, 'css');
          else if (open && open.text.length < MAX_ANCHOR_TEXT) open.text += t;
        },
        onclosetag(name) {
          depth--;
          frames.pop();
          const role = TAG_ROLES.get(name);
          if (role?.noText && noText > 0) noText--;
          if (withText) closeText(name, role);
          if (name === 'a' && open) {
            add(open);
            open = undefined;
          } else if (name === 'form' && form) {
            add(form);
            form = undefined;
          } else if (name === 'style') inStyle = false;
        },
      },
      {
        decodeEntities: true,
        lowerCaseTags: true,
        lowerCaseAttributeNames: true,
        Tokenizer: ReadingTokenizer as unknown as typeof Tokenizer,
      },
    );

  const writeText = (t: string): void => {
    // In a <pre> the text is kept as it is, and (as html-to-text has it) is no link's text.
    if (pre > 0) {
      if (t) emit(t);
      return;
    }
    // Read by ontext's scanText.
    const n = t.length;
    const { from, to } = scan;
    if (from !== 0 && n > 0) space = true;
    if (from < 0) return;
    // Most text has no whitespace to collapse (none, or single spaces): it is written as it is.
    const words = from === 0 && to === n ? t : t.slice(from, to);
    emit(scan.collapse ? words.replace(WHITESPACE, ' ') : words);
    if (to < n) space = true;
    wordsWritten++;
  };
  const openText = (name: string, role: TagRole | undefined, attrs: Record<string, string>): void => {
    if (role?.skipped) skipped++;
    if (name === 'body' && inBody++ === 0) {
      bodyFrom = out.length;
      // Only the body is formatted: a <pre> around it does not count.
      pre = 0;
    }
    if (skipped > 0) return;
    const block = role?.block;
    if (block) lineBreaks(block[0]);
    if (name === 'br') {
      breaks++;
    } else if (name === 'pre') {
      pre++;
    } else if (name === 'ul' || name === 'ol') {
      const start = name === 'ol' ? Number.parseInt(attrs['start'] ?? '', 10) : Number.NaN;
      lists.push({ ordered: name === 'ol', next: Number.isNaN(start) ? 1 : start, depth });
    } else if (name === 'li' && lists.at(-1)?.depth === depth - 1) {
      // A list item is an <li> right inside the list; any other <li> is inline, as in html-to-text.
      const list = lists.at(-1)!;
      lineBreaks(1);
      emit(list.ordered ? `${list.next++}. ` : '* ');
    } else if (name === 'a') {
      // html-to-text's anchor: the href after the text, without mailto:, none for #anchors.
      const href = (attrs['href'] ?? '').replace(/^mailto:/, '');
      anchors.push({ shown: href.startsWith('#') ? '' : href, wordsBefore: wordsWritten });
    } else if (name === 'img') {
      const alt = attrs['alt'] ?? '';
      const src = attrs['src'] ?? '';
      const shown = src ? (alt ? `${alt} [${src}]` : `[${src}]`) : alt;
      if (shown) emit(shown);
    }
  };
  const closeText = (name: string, role: TagRole | undefined): void => {
    if (name === 'body' && inBody > 0 && --inBody === 0) bodyRanges.push([bodyFrom, out.length]);
    if (role?.skipped) {
      if (skipped > 0) skipped--;
      return;
    }
    if (skipped > 0) return;
    const block = role?.block;
    if (block) lineBreaks(block[1]);
    if (name === 'pre' && pre > 0) pre--;
    else if (name === 'li' && lists.at(-1)?.depth === depth) lineBreaks(1);
    else if ((name === 'ul' || name === 'ol') && lists.at(-1)?.depth === depth + 1) lists.pop();
    else if (name === 'a') {
      const anchor = anchors.pop();
      if (anchor?.shown) {
        if (wordsWritten > anchor.wordsBefore) {
          space = true;
          emit(`[${anchor.shown}]`);
        } else emit(anchor.shown);
      }
    }
  };

  let parser = html ? newParser() : undefined;
  for (let at = 0; parser && at < html.length; at += HTML_CHUNK_CHARS) {
    parser.write(html.slice(at, at + HTML_CHUNK_CHARS));
    if (depth > MAX_HTML_DEPTH) {
      // Too deep: drop the open elements and read on with a fresh parser (links are still found).
      tooDeep = true;
      parser.end();
      depth = 0;
      frames = [];
      noText = 0;
      skipped = 0;
      pre = 0;
      anchors.length = 0;
      lists.length = 0;
      parser = newParser();
    }
  }
  parser?.end();
  if (open) add(open);
  if (form) add(form);

  let text = '';
  if (withText) {
    if (inBody > 0) bodyRanges.push([bodyFrom, out.length]);
    const chunks = bodyRanges.length
      ? bodyRanges.map(([from, to]) => out.slice(from, to).join('').trim()).filter((s) => s)
      : [out.join('')];
    text = chunks.join('\n').trim();
  }
  const stats: HtmlStats = {
    visibleChars,
    hiddenChars,
    images,
    ...(hiddenSample ? { hiddenSample: hiddenSample.trim().slice(0, 80) } : {}),
  };
  return { text, links: list, stats, tooDeep };
}
