// A command's stdout carries its results (one JSON object per line with --json). Some libraries print
// there on their own (mailauth logs DKIM l= length mismatches with console.log), which would corrupt it.

/** Runs `fn` with console.log sent to stderr, so only the command itself writes to stdout. */
export async function withResultsOnStdout<T>(fn: () => Promise<T>): Promise<T> {
  const log = console.log;
  console.log = console.error;
  try {
    return await fn();
  } finally {
    console.log = log;
  }
}
