import { test } from "node:test";
import assert from "node:assert/strict";

import { parseJob } from "../src/job";
import { joinWords, quoteWord } from "../src/quote";

test("a job's steps become argvs", () => {
  const job = parseJob({
    name: "unit",
    steps: [{ run: "pytest -k 'not slow' --maxfail=2" }, { run: "coverage report", timeout_s: 30 }],
  });
  assert.equal(job.name, "unit");
  assert.deepEqual(job.steps[0], {
    argv: ["pytest", "-k", "not slow", "--maxfail=2"],
    display: "pytest -k 'not slow' --maxfail=2",
    timeoutS: 600,
  });
  assert.equal(job.steps[1].timeoutS, 30);
});

test("invalid jobs are rejected", () => {
  assert.throws(() => parseJob({ name: "Unit Tests", steps: [{ run: "make" }] }), /job name/);
  assert.throws(() => parseJob({ name: "unit", steps: [] }), /non-empty/);
  assert.throws(() => parseJob({ name: "unit", steps: [{ run: "  # nothing" }] }), /no command/);
  assert.throws(() => parseJob({ name: "unit", steps: [{ run: "make", timeout_s: 0 }] }), /timeout_s/);
});

test("quoting for display", () => {
  assert.equal(quoteWord("--out=build/x.tar.gz"), "--out=build/x.tar.gz");
  assert.equal(quoteWord("two words"), "'two words'");
  assert.equal(quoteWord("it's"), "'it'\\''s'");
  assert.equal(joinWords(["echo", "a b", "c"]), "echo 'a b' c");
});
