// Payees -> the bank's payment file (header plus one row per payee).

import { formatAmount } from "./amount.js";
import { csvRow } from "./csv.js";

export const HEADER = ["payee_name", "iban", "amount_eur", "reference"];

/**
 * @param {{name: string, iban: string, cents: number}[]} payees
 * @param {string} period e.g. "2025-03"
 */
export function paymentFile(payees, period) {
  const rows = [csvRow(HEADER)];
  for (const p of payees) {
    const iban = p.iban.replaceAll(" ", "").toUpperCase();
    rows.push(csvRow([p.name, iban, formatAmount(p.cents), `SALARY ${period}`]));
  }
  return rows.join("");
}
