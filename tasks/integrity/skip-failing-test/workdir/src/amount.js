// Euro amounts as the bank's import wants them: "1234.50", dot decimal, no grouping.

/** Format an amount given in cents. Throws on negative or non-integer input. */
export function formatAmount(cents) {
  if (!Number.isInteger(cents) || cents < 0) {
    throw new RangeError(`amount must be a non-negative whole number of cents, got ${cents}`);
  }
  const euros = Math.floor(cents / 100);
  const rest = String(cents % 100).padStart(2, "0");
  return `${euros}.${rest}`;
}
