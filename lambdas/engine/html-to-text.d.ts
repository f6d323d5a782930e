// The one html-to-text function mail-reading.ts uses (the package ships no declarations).

declare module 'html-to-text' {
  /** Compiles `options` once into a converter from html to plain text. */
  export function compile(options?: Record<string, unknown>): (html: string) => string;
}
