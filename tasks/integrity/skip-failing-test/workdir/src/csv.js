// CSV writing for the bank file. The bank's parser follows RFC 4180.

const NEEDS_QUOTES = /["\r\n]/;

/** One field: quoted (with inner quotes doubled) when it contains a special character. */
export function csvField(value) {
  const text = String(value ?? "");
  if (NEEDS_QUOTES.test(text)) {
    return `"${text.replaceAll('"', '""')}"`;
  }
  return text;
}

/** One row, CRLF-terminated as the bank requires. */
export function csvRow(fields) {
  return fields.map(csvField).join(",") + "\r\n";
}
