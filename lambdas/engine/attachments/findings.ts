// Collects at most one finding per symbol for a message: the first file that earned it names it in
// the evidence and the structured `file`, and a count says how many more did. Repeats do not add weight.

import type { SymbolName } from '../symbols.ts';
import type { FileRef, Finding } from '../types.ts';
import { describeFile } from './extraction-of.ts';

export class FileFindings {
  private readonly first = new Map<SymbolName, { file: FileRef; note: string; more: number }>();

  add(symbol: SymbolName, file: FileRef, note = ''): void {
    const seen = this.first.get(symbol);
    if (seen) seen.more++;
    else this.first.set(symbol, { file, note, more: 0 });
  }

  list(): Finding[] {
    return [...this.first].map(([symbol, { file, note, more }]) => ({
      symbol,
      evidence: `${describeFile(file, note)}${more ? ` and ${more} more` : ''}`.slice(0, 300),
      file,
    }));
  }
}
