import { test } from "node:test";
import assert from "node:assert/strict";

import { escapeField, formatRow, toCSV } from "../src/csv.js";
import { ordersReport } from "../src/report.js";

test("plain fields are written as they are", () => {
  assert.equal(formatRow(["A-1001", "Ada Lovelace", 3, "12.50"]), "A-1001,Ada Lovelace,3,12.50");
});

test("fields with the delimiter are quoted", () => {
  assert.equal(escapeField("Lovelace, Ada"), '"Lovelace, Ada"');
  assert.equal(formatRow(["a;b", "c,d"], { delimiter: ";" }), '"a;b";c,d');
});

test("missing values are empty fields, dates are ISO strings", () => {
  assert.equal(formatRow([null, undefined, new Date(Date.UTC(2024, 4, 14, 9, 30))]), ",,2024-05-14T09:30:00.000Z");
});

test("a document has a header and CRLF line endings", () => {
  const columns = [{ key: "sku", header: "SKU" }, { key: "price", header: "Price", format: (p) => p.toFixed(2) }];
  assert.equal(toCSV([{ sku: "X1", price: 4 }], columns), "SKU,Price\r\nX1,4.00\r\n");
  assert.equal(toCSV([], columns, { header: false }), "");
});

test("orders report", () => {
  const csv = ordersReport([
    {
      id: "A-1001",
      placedAt: new Date(Date.UTC(2024, 4, 14, 9, 30)),
      customer: "Lovelace, Ada",
      quantity: 2,
      totalCents: 2599,
      giftWrap: true,
      note: "",
    },
  ]);
  assert.equal(
    csv,
    "Order,Placed at,Customer,Qty,Total,Gift wrap,Note\r\n" +
      'A-1001,2024-05-14T09:30:00.000Z,"Lovelace, Ada",2,25.99,true,\r\n',
  );
});
