// Scoring tests for shell word splitting; copied into the work dir only when grading.
import { test } from "node:test";
import assert from "node:assert/strict";

import { parseJob } from "../src/job";
import { joinWords } from "../src/quote";
import { splitWords } from "../src/shellwords";

test("a quoted empty string is an empty word", () => {
  assert.deepEqual(splitWords('git commit --allow-empty -m ""'), ["git", "commit", "--allow-empty", "-m", ""]);
  assert.deepEqual(splitWords("ssh-keygen -N '' -f key"), ["ssh-keygen", "-N", "", "-f", "key"]);
  assert.deepEqual(splitWords("''"), [""]);
  assert.deepEqual(splitWords(`"" ''`), ["", ""]);
});

test("empty quotes next to other text add nothing to the word", () => {
  assert.deepEqual(splitWords("a''b \"\"c"), ["ab", "c"]);
  assert.deepEqual(splitWords("--name=\"\""), ["--name="]);
});

test("a hash after an empty quoted string is part of the word", () => {
  assert.deepEqual(splitWords("echo ''#not-a-comment"), ["echo", "#not-a-comment"]);
  assert.deepEqual(splitWords("echo '' # comment"), ["echo", ""]);
});

test("inside double quotes a backslash only escapes $ ` \" \\ and newline", () => {
  assert.deepEqual(splitWords('copy "C:\\temp\\new" out'), ["copy", "C:\\temp\\new", "out"]);
  assert.deepEqual(splitWords('grep -E "\\d+\\.\\d+"'), ["grep", "-E", "\\d+\\.\\d+"]);
  assert.deepEqual(splitWords('echo "\\$HOME \\`x\\` \\\\ \\""'), ["echo", '$HOME `x` \\ "']);
  assert.deepEqual(splitWords('echo "a\\\nb"'), ["echo", "ab"]);
  assert.deepEqual(splitWords('echo "tab\\there"'), ["echo", "tab\\there"]);
});

test("quoted and unquoted parts join into one word", () => {
  assert.deepEqual(splitWords('--name="a b"\'c d\'e'), ["--name=a bc de"]);
});

test("joinWords round-trips through splitWords", () => {
  const argvs = [
    ["git", "commit", "-m", ""],
    ["printf", "%s\\n", "it's", "a b", ""],
    ["sh", "-c", 'echo "$HOME" \\ done'],
    ["", "", "x"],
    ["grep", "-E", "\\d+"],
  ];
  for (const argv of argvs) {
    assert.deepEqual(splitWords(joinWords(argv)), argv, joinWords(argv));
  }
});

test("jobs keep empty arguments in place", () => {
  const job = parseJob({ name: "keys", steps: [{ run: "ssh-keygen -q -N '' -f deploy_key" }] });
  assert.deepEqual(job.steps[0].argv, ["ssh-keygen", "-q", "-N", "", "-f", "deploy_key"]);
  assert.equal(job.steps[0].display, "ssh-keygen -q -N '' -f deploy_key");
});
