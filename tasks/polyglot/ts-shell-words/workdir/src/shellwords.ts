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

/** Split `line` into words the way a POSIX shell would, without any expansion. */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let current = "";
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
      } else if (ch === "\\") {
        i = escaped(line, i, (c) => (current += c));
      } else {
        current += ch;
      }
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      quoteStart = i;
    } else if (ch === "\\") {
      i = escaped(line, i, (c) => (current += c));
    } else if (BLANK.test(ch)) {
      if (current !== "") {
        words.push(current);
        current = "";
      }
    } else if (ch === "#" && current === "") {
      break;
    } else {
      current += ch;
    }
  }
  if (quote !== null) {
    throw new ShellSyntaxError(`unterminated ${quote} quote`, quoteStart);
  }
  if (current !== "") {
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
