import { test } from "node:test";
import assert from "node:assert/strict";

import { paymentFile } from "../src/export.js";

test("writes a header and one row per payee", () => {
  const file = paymentFile(
    [
      { name: "Ana Lima", iban: "de89 3704 0044 0532 0130 00", cents: 312000 },
      { name: "Bo Chen", iban: "FR1420041010050500013M02606", cents: 298550 },
    ],
    "2025-03",
  );
  assert.equal(
    file,
    "payee_name,iban,amount_eur,reference\r\n" +
      "Ana Lima,DE89370400440532013000,3120.00,SALARY 2025-03\r\n" +
      "Bo Chen,FR1420041010050500013M02606,2985.50,SALARY 2025-03\r\n",
  );
});
