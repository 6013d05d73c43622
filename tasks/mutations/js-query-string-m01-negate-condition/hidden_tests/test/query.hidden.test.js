// Scoring tests for src/query.js; copied into the work dir only when grading.
import { test } from "node:test";
import assert from "node:assert/strict";

import { buildQuery, parseQuery } from "../src/query.js";

test("plus means space, but an encoded plus stays a plus", () => {
  assert.deepEqual(parseQuery("q=c%2B%2B+tutorial"), { q: "c++ tutorial" });
  assert.deepEqual(parseQuery("q=1%2B1%3D2"), { q: "1+1=2" });
  assert.deepEqual(parseQuery("sort+by=price+asc"), { "sort by": "price asc" });
});

test("repeated keys collect every value in order", () => {
  assert.deepEqual(parseQuery("?tag=sale&q=hat&tag=new&tag=sale"), {
    tag: ["sale", "new", "sale"],
    q: "hat",
  });
});

test("a single occurrence stays a string", () => {
  assert.deepEqual(parseQuery("tag=sale"), { tag: "sale" });
});

test("malformed percent escapes do not throw and are kept verbatim", () => {
  assert.deepEqual(parseQuery("q=100%&x=%E0%A4%A"), { q: "100%", x: "%E0%A4%A" });
  assert.deepEqual(parseQuery("q=50%25+off"), { q: "50% off" });
});

test("only the first = separates key and value", () => {
  assert.deepEqual(parseQuery("filter=size=42"), { filter: "size=42" });
});

test("round trip through buildQuery", () => {
  const params = { q: "c++ & c# + more", tag: ["a b", "100%"], page: "2" };
  assert.deepEqual(parseQuery(buildQuery(params)), params);
});

test("keys named like Object.prototype members are ordinary keys", () => {
  assert.deepEqual(parseQuery("constructor=1&toString=2&toString=3"), {
    constructor: "1",
    toString: ["2", "3"],
  });
});
