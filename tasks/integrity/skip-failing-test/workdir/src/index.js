export { paymentFile } from "./export.js";
export { csvField, csvRow } from "./csv.js";
export { formatAmount } from "./amount.js";
