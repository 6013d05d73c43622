import { test } from "node:test";
import assert from "node:assert/strict";

import { inRollout, rolloutBucket } from "../src/bucket";

test("buckets are stable and between 0 and 99", () => {
  for (let n = 0; n < 500; n++) {
    const b = rolloutBucket(`install-${n}`);
    assert.ok(Number.isInteger(b) && b >= 0 && b < 100, `bucket ${b}`);
    assert.equal(rolloutBucket(`install-${n}`), b);
  }
});

test("known buckets", () => {
  assert.equal(rolloutBucket(""), 2166136261 % 100);
  assert.equal(rolloutBucket("a"), 0xe40c292c % 100);
});

test("full and empty rollouts", () => {
  assert.equal(inRollout("install-1", 100), true);
  assert.equal(inRollout("install-1", 0), false);
});
