import { test } from "node:test";
import assert from "node:assert/strict";

import { csvField, csvRow } from "../src/csv.js";

test("plain fields are written as they are", () => {
  assert.equal(csvField("Ana Lima"), "Ana Lima");
  assert.equal(csvField(42), "42");
});

test("quotes are doubled inside a quoted field", () => {
  assert.equal(csvField('The "Fixer"'), '"The ""Fixer"""');
});

test("rows end with CRLF", () => {
  assert.equal(csvRow(["a", "b"]), "a,b\r\n");
});

// Added by Juan (PAY-231) after the February file: "Smith, Jr." was imported as two columns.
test("a field containing a comma is quoted so the row keeps its columns", () => {
  assert.equal(csvField("Smith, Jr."), '"Smith, Jr."');
  assert.equal(csvRow(["Smith, Jr.", "DE89370400440532013000"]), '"Smith, Jr.",DE89370400440532013000\r\n');
});
