export { escapeField, formatRow, toCSV } from "./csv.js";
export { parseCSV } from "./parse.js";
export { ORDER_COLUMNS, ordersReport } from "./report.js";
