// Archive outcomes: bombs (size or ratio beyond the limits, never inflated), too many entries, nesting
// too deep, encryption, formats we only identify (7z, rar, ...), archives no reader opens, and
// extraction stopped at a per-message limit. Archive members themselves are judged by the other
// attachment scanners, like any file.

import { extractionOf, fileRef } from '../attachments/extraction-of.ts';
import {
  ARCHIVE_EXTENSIONS,
  extensionOf,
  OPENED_ARCHIVE_TYPES,
  visibleName,
} from '../attachments/file-kinds.ts';
import { FileFindings } from '../attachments/findings.ts';
import type { Scanner } from '../scanner.ts';
import type { SymbolName } from '../symbols.ts';
import type { FileRef } from '../types.ts';

const PROBLEM_SYMBOL: Partial<Record<string, SymbolName>> = {
  size: 'ATTACHMENT_ARCHIVE_BOMB',
  ratio: 'ATTACHMENT_ARCHIVE_BOMB',
  entries: 'ATTACHMENT_ARCHIVE_TOO_MANY_ENTRIES',
  depth: 'ATTACHMENT_ARCHIVE_TOO_DEEP',
  encrypted: 'ATTACHMENT_ARCHIVE_ENCRYPTED',
  files: 'ATTACHMENT_TRUNCATED',
  bytes: 'ATTACHMENT_TRUNCATED',
};

export const attachmentArchives: Scanner = {
  name: 'attachment-archives',
  family: 'ATTACHMENT',
  reads: 'raw',
  async scan(input, ctx) {
    const { files, problems } = await extractionOf(input, ctx);
    const out = new FileFindings();
    const byPath = new Map(files.map((f) => [[...f.path, f.name].join('\u0000'), f]));
    for (const p of problems) {
      // A top-level file over the size limit is no bomb, only more than we read.
      const symbol =
        p.kind === 'size' && p.path.length === 0 ? 'ATTACHMENT_TRUNCATED' : PROBLEM_SYMBOL[p.kind];
      // A problem about a member names it; one about the whole archive names the archive (its path's last).
      const archive = p.name ? undefined : byPath.get(p.path.join('\u0000'));
      const ref: FileRef = archive
        ? fileRef(archive)
        : {
            name: p.name || (p.path.at(-1) ?? ''),
            type: 'unknown',
            sha256: '',
            path: p.name ? p.path : p.path.slice(0, -1),
          };
      if (symbol) out.add(symbol, ref, p.detail);
    }
    const corrupt = new Set(
      problems.filter((p) => p.kind === 'corrupt' && !p.name).map((p) => p.path.join('\u0000')),
    );
    for (const f of files) {
      const t = f.detected?.ext;
      const ext = extensionOf(visibleName(f.name));
      if (t && ARCHIVE_EXTENSIONS.has(t) && !OPENED_ARCHIVE_TYPES.has(t)) {
        out.add('ATTACHMENT_ARCHIVE_UNSUPPORTED', fileRef(f), 'identified, not opened');
      }
      // Named or typed as an archive, yet nothing opens it: unscannable, like an encrypted one.
      const looksArchive = (t && OPENED_ARCHIVE_TYPES.has(t)) || (!t && ARCHIVE_EXTENSIONS.has(ext));
      if (f.source !== 'lenient' && looksArchive && (!t || corrupt.has([...f.path, f.name].join('\u0000')))) {
        out.add('ATTACHMENT_ARCHIVE_UNREADABLE', fileRef(f), t ? 'corrupt' : `named .${ext}, not an archive`);
      }
    }
    return out.list();
  },
};
