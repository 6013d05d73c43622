/** Shell word splitting for `run` lines: POSIX quoting, no expansions (see the README). */

export class ShellSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(`${message} at column ${position + 1}`);
    this.name = "ShellSyntaxError";
  }
}

const BLANK = /[ \t\n]/;

/** Characters a backslash escapes inside double quotes; before any other it stays literal. */
const DQUOTE_ESCAPABLE = new Set(["$", "`", '"', "\\", "\n"]);

/** Split `line` into words the way a POSIX shell would, without any expansion. */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let current = "";
  // A word exists as soon as any part of it is seen, even an empty quoted string ("" or '').
  let inWord = false;
  let quote: "'" | '"' | null = null;
  let quoteStart = 0;

  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quote === "'") {
      if (ch === "'") {
        quote = null;
      } else {
        current += ch;
      }
      continue;
    }
    if (quote === '"') {
      if (ch === '"') {
        quote = null;
      } else if (ch === "\\" && i + 1 < line.length && DQUOTE_ESCAPABLE.has(line[i + 1])) {
        i = escaped(line, i, (c) => (current += c));
      } else {
        current += ch;
      }
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      quoteStart = i;
      inWord = true;
    } else if (ch === "\\") {
      if (line[i + 1] !== "\n") {
        inWord = true;
      }
      i = escaped(line, i, (c) => (current += c));
    } else if (BLANK.test(ch)) {
      if (inWord) {
        words.push(current);
        current = "";
        inWord = false;
      }
    } else if (ch === "#" && !inWord) {
      break;
    } else {
      current += ch;
      inWord = true;
    }
  }
  if (quote !== null) {
    throw new ShellSyntaxError(`unterminated ${quote} quote`, quoteStart);
  }
  if (inWord) {
    words.push(current);
  }
  return words;
}

/**
 * Handle the backslash at `line[i]`: emit the character it escapes (nothing for a line
 * continuation) and return the index of the last character consumed.
 */
function escaped(line: string, i: number, emit: (c: string) => void): number {
  if (i + 1 >= line.length) {
    throw new ShellSyntaxError("backslash at end of input", i);
  }
  const next = line[i + 1];
  if (next !== "\n") {
    emit(next);
  }
  return i + 1;
}
