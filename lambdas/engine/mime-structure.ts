// A bounded, line-based walk over a raw message's MIME tree, run before mailparser. It counts parts
// and nesting depth, finds where a limit is crossed (so the caller can cut the message there), and
// notices structural damage mailparser would silently paper over. It decodes nothing.

/** What the walk found. `cutAt` is the byte offset where a part or depth limit was crossed. */
export interface MimeStructure {
  readonly parts: number;
  readonly maxDepth: number;
  readonly cutAt?: number;
  readonly problems: readonly string[];
  /** A text/html leaf exists and no text/plain leaf does. */
  readonly htmlOnly: boolean;
}

// A header block longer than this without a blank line is treated as body: real header blocks are a few
// KB; 256 KB leaves room for huge Received chains while bounding the regex work per part.
const MAX_HEADER_BLOCK_CHARS = 256 * 1024;

// A character no line of base64 text holds (line ends and other whitespace are allowed).
const NOT_BASE64 = /[^A-Za-z0-9+/=\s]/g;

interface Level {
  readonly boundary: string;
  seen: boolean;
  closed: boolean;
}

interface PartHeaders {
  readonly contentType: string;
  readonly boundary?: string;
  readonly encoding: string;
}

/**
 * The first `name:` field of a header block, its folded lines unfolded: only that field is unfolded,
 * not the whole block (a top-level block can be many KB of Received lines).
 */
function field(block: string, name: RegExp): string {
  const m = name.exec(block);
  if (!m) return '';
  let end = m.index;
  // The field goes on while the next line starts with a space or a tab.
  for (;;) {
    const nl = block.indexOf('\n', end);
    if (nl < 0) {
      end = block.length;
      break;
    }
    end = nl + 1;
    const next = block.charCodeAt(end);
    if (next !== 0x20 && next !== 0x09) break;
  }
  return block.slice(m.index, end).replace(/\r?\n[ \t]+/g, ' ');
}

function readHeaders(block: string): PartHeaders {
  const ct = /^content-type:[ \t]*([^\r\n]*)/i.exec(field(block, /^content-type:/im))?.[1] ?? '';
  const cte =
    /^content-transfer-encoding:[ \t]*([^\r\n;]*)/i.exec(
      field(block, /^content-transfer-encoding:/im),
    )?.[1] ?? '';
  const type = (/^\s*([^;\s]+)/.exec(ct)?.[1] ?? 'text/plain').toLowerCase();
  const boundary = /boundary\s*=\s*(?:"([^"]{1,200})"|([^;\s]{1,200}))/i.exec(ct);
  const b = boundary?.[1] ?? boundary?.[2];
  return { contentType: type, encoding: cte.trim().toLowerCase(), ...(b ? { boundary: b } : {}) };
}

/**
 * Walks the MIME structure of `src` (a latin1 string of the raw bytes, so offsets are byte offsets).
 * Linear in the input; stops at the first crossed limit and reports where.
 */
export function inspectMimeStructure(
  src: string,
  limits: { maxParts: number; maxDepth: number },
): MimeStructure {
  const problems: string[] = [];
  const stack: Level[] = [];
  let parts = 0;
  let maxDepth = 0;
  let cutAt: number | undefined;
  let sawPlain = false;
  let sawHtml = false;
  let leafBase64 = false;
  let leafBad = false;

  /** Reads the header block starting at `pos`; returns the offset where its body starts. */
  const enterPart = (pos: number): number => {
    const window = src.slice(pos, pos + MAX_HEADER_BLOCK_CHARS);
    const blank = /\r?\n\r?\n/.exec(window);
    const startsBlank = /^\r?\n/.exec(window);
    let headerEnd: number;
    let bodyStart: number;
    if (startsBlank) {
      headerEnd = pos;
      bodyStart = pos + startsBlank[0].length;
    } else if (blank) {
      headerEnd = pos + blank.index;
      bodyStart = headerEnd + blank[0].length;
    } else {
      headerEnd = Math.min(src.length, pos + MAX_HEADER_BLOCK_CHARS);
      bodyStart = headerEnd;
      if (src.length > pos + MAX_HEADER_BLOCK_CHARS) problems.push('malformed: header block has no end');
    }
    const h = readHeaders(src.slice(pos, headerEnd));
    leafBase64 = false;
    leafBad = false;
    if (h.contentType.startsWith('multipart/')) {
      if (!h.boundary) {
        problems.push(`malformed: ${h.contentType} without a boundary`);
      } else {
        stack.push({ boundary: h.boundary, seen: false, closed: false });
        maxDepth = Math.max(maxDepth, stack.length);
      }
    } else {
      if (h.contentType === 'text/plain') sawPlain = true;
      if (h.contentType === 'text/html') sawHtml = true;
      leafBase64 = h.encoding === 'base64';
    }
    return bodyStart;
  };

  // Where the next character base64 cannot hold is: one search serves every line before it, so a
  // large base64 part costs one scan, not a copy and a regex per line.
  let nextBad = -1;
  const notBase64Before = (from: number, to: number): boolean => {
    if (nextBad < from) {
      NOT_BASE64.lastIndex = from;
      nextBad = NOT_BASE64.exec(src)?.index ?? src.length;
    }
    return nextBad < to;
  };

  let pos = enterPart(0);
  parts = 1;
  if (stack.length > limits.maxDepth) cutAt = 0;

  while (cutAt === undefined && pos < src.length) {
    let nl = src.indexOf('\n', pos);
    if (nl < 0) nl = src.length;
    const lineStart = pos;
    pos = nl + 1;
    // Only a boundary line, or a line of a base64 leaf not yet found bad, can change anything: other
    // lines are skipped unread, and once no multipart is open and no base64 is read, the walk is done.
    const maybeBoundary = stack.length > 0 && src.startsWith('--', lineStart);
    if (!maybeBoundary && !(leafBase64 && !leafBad)) {
      if (stack.length === 0) break;
      continue;
    }
    const line = maybeBoundary ? src.slice(lineStart, nl).replace(/\r$/, '') : '';
    if (maybeBoundary) {
      let matched = -1;
      let closing = false;
      for (let i = stack.length - 1; i >= 0; i--) {
        const b = (stack[i] as Level).boundary;
        if (!line.startsWith(`--${b}`)) continue;
        const rest = line.slice(b.length + 2);
        if (rest.trim() === '') {
          matched = i;
          break;
        }
        if (rest.startsWith('--') && rest.slice(2).trim() === '') {
          matched = i;
          closing = true;
          break;
        }
      }
      if (matched >= 0) {
        const level = stack[matched] as Level;
        level.seen = true;
        for (const inner of stack.splice(matched + 1)) {
          if (!inner.closed) problems.push(`malformed: boundary "${inner.boundary.slice(0, 40)}" not closed`);
        }
        if (closing) {
          level.closed = true;
          stack.pop();
          leafBase64 = false;
          continue;
        }
        parts++;
        if (parts > limits.maxParts) {
          cutAt = lineStart;
          problems.push(`truncated: more than ${limits.maxParts} parts`);
          break;
        }
        const depthBefore = stack.length;
        pos = enterPart(Math.min(pos, src.length));
        if (stack.length > limits.maxDepth && stack.length > depthBefore) {
          cutAt = lineStart;
          problems.push(`truncated: nesting deeper than ${limits.maxDepth}`);
          break;
        }
        continue;
      }
    }
    if (leafBase64 && !leafBad && notBase64Before(lineStart, nl)) {
      leafBad = true;
      problems.push(`unreadable: part ${parts} has invalid base64`);
    }
  }

  if (cutAt === undefined) {
    for (const level of stack) {
      if (!level.seen) problems.push(`malformed: boundary "${level.boundary.slice(0, 40)}" never found`);
      else if (!level.closed)
        problems.push(`malformed: boundary "${level.boundary.slice(0, 40)}" not closed`);
    }
  }
  return {
    parts,
    maxDepth,
    ...(cutAt !== undefined ? { cutAt } : {}),
    problems,
    htmlOnly: sawHtml && !sawPlain,
  };
}
