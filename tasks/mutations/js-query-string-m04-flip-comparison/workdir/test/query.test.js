import { test } from "node:test";
import assert from "node:assert/strict";

import { buildQuery, pageOf, parseQuery } from "../src/query.js";

test("parses simple pairs", () => {
  assert.deepEqual(parseQuery("?q=shoes&page=2"), { q: "shoes", page: "2" });
});

test("key without value maps to empty string", () => {
  assert.deepEqual(parseQuery("instock&q=hat"), { instock: "", q: "hat" });
});

test("buildQuery encodes spaces as plus", () => {
  assert.equal(buildQuery({ q: "red shoes", page: 3 }), "q=red+shoes&page=3");
});

test("pageOf falls back to 1", () => {
  assert.equal(pageOf({ page: "4" }), 4);
  assert.equal(pageOf({ page: "-2" }), 1);
  assert.equal(pageOf({}), 1);
});
