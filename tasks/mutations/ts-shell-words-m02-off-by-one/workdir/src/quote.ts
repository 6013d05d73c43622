/** Quoting for display: the inverse of `splitWords`. */

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** `word` as the shell would need it written: bare when safe, else single-quoted. */
export function quoteWord(word: string): string {
  if (SAFE.test(word)) {
    return word;
  }
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** An argv as one line that `splitWords` turns back into the same argv. */
export function joinWords(argv: readonly string[]): string {
  return argv.map(quoteWord).join(" ");
}
