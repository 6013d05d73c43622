// The daily orders report opened by finance.

import { toCSV } from "./csv.js";

const money = (cents) => (cents < 0 ? "-" : "") + (Math.abs(cents) / 100).toFixed(2);

export const ORDER_COLUMNS = [
  { key: "id", header: "Order" },
  { key: "placedAt", header: "Placed at" },
  { key: "customer", header: "Customer" },
  { key: "quantity", header: "Qty" },
  { key: "totalCents", header: "Total", format: money },
  { key: "giftWrap", header: "Gift wrap" },
  { key: "note", header: "Note" },
];

/** The orders report as CSV text. */
export function ordersReport(orders, { delimiter = "," } = {}) {
  return toCSV(orders, ORDER_COLUMNS, { delimiter });
}
