// Prints one closing line `tests: N passed, N failed, N skipped` after the default reporter,
// the plain form CI reads to count what ran.
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const counts = { passed: 0, failed: 0, skipped: 0, pending: 0 };
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) counts[test.result().state] += 1;
      // A file that failed to load has no tests but must still count as a failure.
      if (mod.state() === 'failed' && mod.children.size === 0) counts.failed += 1;
    }
    process.stdout.write(
      `\ntests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`,
    );
  }
}
