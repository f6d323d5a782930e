// The one html-to-text function test/engine/mail-reading.test.ts uses: mailparser's own converter, to
// hold mail-reading's walk to simpleParser's (the package ships no declarations).

declare module 'html-to-text' {
  /** Compiles `options` once into a converter from html to plain text. */
  export function compile(options?: Record<string, unknown>): (html: string) => string;
}
