import { test } from "node:test";
import assert from "node:assert/strict";

import { parseCSV } from "../src/parse.js";

test("parses records and quoted fields", () => {
  assert.deepEqual(parseCSV('sku,name,price\r\nX1,"Mug, large",4.00\r\nX2,"Say ""hi""",1\r\n'), [
    ["sku", "name", "price"],
    ["X1", "Mug, large", "4.00"],
    ["X2", 'Say "hi"', "1"],
  ]);
});

test("line breaks inside quotes belong to the field", () => {
  assert.deepEqual(parseCSV('a,"line 1\r\nline 2"\nb,c'), [
    ["a", "line 1\r\nline 2"],
    ["b", "c"],
  ]);
});

test("other delimiters and empty fields", () => {
  assert.deepEqual(parseCSV("a;;c\r\n", { delimiter: ";" }), [["a", "", "c"]]);
  assert.deepEqual(parseCSV('"",x\r\n'), [["", "x"]]);
});

test("unterminated quotes are an error", () => {
  assert.throws(() => parseCSV('a,"oops\r\n'), SyntaxError);
});
