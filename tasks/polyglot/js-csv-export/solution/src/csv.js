// CSV writer: the RFC 4180 dialect described in the README.

const CRLF = "\r\n";

/** The text of one field, quoted when the dialect requires it. */
export function escapeField(value, delimiter = ",") {
  let text;
  if (value === null || value === undefined) {
    text = "";
  } else if (value instanceof Date) {
    text = value.toISOString();
  } else {
    text = String(value); // 0 and false are values, not missing ones
  }
  if (text.includes(delimiter) || /["\r\n]/.test(text)) {
    return `"${text.replace(/"/g, '""')}"`;
  }
  return text;
}

/** One record, without its line ending. */
export function formatRow(values, { delimiter = "," } = {}) {
  return values.map((v) => escapeField(v, delimiter)).join(delimiter);
}

/**
 * A whole CSV document: a header record from the columns' `header`s, then one record per
 * item, each field `column.format(item[column.key], item)` (or the raw value without a format).
 */
export function toCSV(records, columns, { delimiter = ",", header = true } = {}) {
  const lines = [];
  if (header) {
    lines.push(formatRow(columns.map((c) => c.header), { delimiter }));
  }
  for (const record of records) {
    const values = columns.map((c) => (c.format ? c.format(record[c.key], record) : record[c.key]));
    lines.push(formatRow(values, { delimiter }));
  }
  return lines.map((line) => line + CRLF).join("");
}
