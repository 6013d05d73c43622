// Scoring tests for the CSV writer; copied into the work dir only when grading.
import { test } from "node:test";
import assert from "node:assert/strict";

import { escapeField, formatRow, toCSV } from "../src/csv.js";
import { parseCSV } from "../src/parse.js";
import { ordersReport } from "../src/report.js";

test("double quotes are doubled inside a quoted field", () => {
  assert.equal(escapeField('The "Deluxe" box'), '"The ""Deluxe"" box"');
  assert.equal(escapeField('"'), '""""');
  assert.equal(escapeField('Lovelace, "Ada"'), '"Lovelace, ""Ada"""');
});

test("line breaks force quoting", () => {
  assert.equal(escapeField("line 1\nline 2"), '"line 1\nline 2"');
  assert.equal(escapeField("line 1\r\nline 2"), '"line 1\r\nline 2"');
  assert.equal(escapeField("cr\ronly"), '"cr\ronly"');
});

test("quoting follows the chosen delimiter", () => {
  assert.equal(formatRow(["1,5 kg", 'a"b', "x;y"], { delimiter: ";" }), '1,5 kg;"a""b";"x;y"');
});

test("falsy values other than null and undefined are written", () => {
  assert.equal(formatRow([0, false, "", null, undefined, -0.5, 0n]), "0,false,,,,-0.5,0");
  assert.equal(escapeField(0, ";"), "0");
});

test("nothing else is quoted", () => {
  assert.equal(formatRow(["  padded  ", "tab\there", "é ü"]), "  padded  ,tab\there,é ü");
});

test("orders report round-trips through the parser", () => {
  const orders = [
    {
      id: "A-1002",
      placedAt: new Date(Date.UTC(2024, 4, 14, 10, 0)),
      customer: 'Grace "Amazing" Hopper',
      quantity: 0,
      totalCents: -1250,
      giftWrap: false,
      note: "Leave at the door,\nring twice",
    },
    { id: "A-1003", placedAt: null, customer: "Alan Turing", quantity: 1, totalCents: 0, giftWrap: true, note: undefined },
  ];
  for (const delimiter of [",", ";"]) {
    const rows = parseCSV(ordersReport(orders, { delimiter }), { delimiter });
    assert.deepEqual(rows, [
      ["Order", "Placed at", "Customer", "Qty", "Total", "Gift wrap", "Note"],
      ["A-1002", "2024-05-14T10:00:00.000Z", 'Grace "Amazing" Hopper', "0", "-12.50", "false", "Leave at the door,\nring twice"],
      ["A-1003", "", "Alan Turing", "1", "0.00", "true", ""],
    ]);
  }
});

test("each record is one CSV line ending in CRLF", () => {
  const csv = toCSV([{ a: 'x"y' }, { a: "z" }], [{ key: "a", header: "A" }]);
  assert.equal(csv, 'A\r\n"x""y"\r\nz\r\n');
});
