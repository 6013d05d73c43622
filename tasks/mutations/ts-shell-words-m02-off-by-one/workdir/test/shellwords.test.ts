import { test } from "node:test";
import assert from "node:assert/strict";

import { ShellSyntaxError, splitWords } from "../src/shellwords";

test("blanks separate words", () => {
  assert.deepEqual(splitWords("make  -j4\ttest\n"), ["make", "-j4", "test"]);
  assert.deepEqual(splitWords("   "), []);
});

test("single quotes keep everything literally", () => {
  assert.deepEqual(splitWords("pytest -k 'not slow and $X'"), ["pytest", "-k", "not slow and $X"]);
  assert.deepEqual(splitWords("echo 'a\\b'"), ["echo", "a\\b"]);
});

test("double quotes group words", () => {
  assert.deepEqual(splitWords('git commit -m "fix the build"'), ["git", "commit", "-m", "fix the build"]);
  assert.deepEqual(splitWords('echo "say \\"hi\\""'), ["echo", 'say "hi"']);
});

test("backslash outside quotes", () => {
  assert.deepEqual(splitWords("ls my\\ dir"), ["ls", "my dir"]);
  assert.deepEqual(splitWords("make \\\n  all"), ["make", "all"]);
});

test("comments", () => {
  assert.deepEqual(splitWords("npm test # run everything"), ["npm", "test"]);
  assert.deepEqual(splitWords("curl http://x/#frag"), ["curl", "http://x/#frag"]);
});

test("syntax errors", () => {
  assert.throws(() => splitWords("echo 'oops"), ShellSyntaxError);
  assert.throws(() => splitWords('echo "oops'), /unterminated " quote at column 6/);
  assert.throws(() => splitWords("echo oops\\"), /backslash at end of input/);
});
