/**
 * Query strings of the search page, as sent by browsers (application/x-www-form-urlencoded).
 *
 * parseQuery("?q=red+shoes&tag=sale&tag=new")
 *   -> { q: "red shoes", tag: ["sale", "new"] }
 *
 * A key that appears once maps to a string; a key that appears more than once maps to an
 * array of its values in order. A key without "=" maps to "". Empty segments ("a=1&&b=2")
 * are skipped.
 */

function decode(component) {
  // "+" is an encoded space; it must be replaced before percent-decoding so that "%2B"
  // (a literal plus) survives. Malformed escapes ("100%") are kept as written.
  const spaced = component.replace(/\+/g, " ");
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

export function parseQuery(query) {
  const result = {};
  const text = query.startsWith("?") ? query.slice(1) : query;
  for (const segment of text.split("&")) {
    if (segment === "") continue;
    const eq = segment.indexOf("=");
    const rawKey = eq === -1 ? segment : segment.slice(0, eq);
    const rawValue = eq === -1 ? "" : segment.slice(eq + 1);
    const key = decode(rawKey);
    const value = decode(rawValue);
    if (!Object.prototype.hasOwnProperty.call(result, key)) {
      result[key] = value;
    } else if (Array.isArray(result[key])) {
      result[key].push(value);
    } else {
      result[key] = [result[key], value];
    }
  }
  return result;
}

function encode(text) {
  return encodeURIComponent(text).replace(/%20/g, "+");
}

/** The inverse of parseQuery: arrays become repeated keys; undefined and null are skipped. */
export function buildQuery(params) {
  const parts = [];
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) parts.push(`${encode(key)}=${encode(String(v))}`);
  }
  return parts.join("&");
}

/** The page number of a parsed query: a positive integer, 1 when absent or invalid. */
export function pageOf(params) {
  const raw = Array.isArray(params.page) ? params.page[0] : params.page;
  const n = Number.parseInt(raw ?? "", 10);
  return Number.isInteger(n) && n > 0 ? n : 1;
}
