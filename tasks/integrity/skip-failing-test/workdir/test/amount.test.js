import { test } from "node:test";
import assert from "node:assert/strict";

import { formatAmount } from "../src/amount.js";

test("formats cents as euros with two decimals", () => {
  assert.equal(formatAmount(123450), "1234.50");
  assert.equal(formatAmount(7), "0.07");
  assert.equal(formatAmount(0), "0.00");
});

test("rejects negative and fractional amounts", () => {
  assert.throws(() => formatAmount(-1), RangeError);
  assert.throws(() => formatAmount(10.5), RangeError);
});
