//! String helpers shared by the `report` and `ingest` command-line tools.

/// Returns the longer of `a` and `b`, measured in characters.
///
/// When both have the same length the first argument wins, so callers can
/// pass the preferred value first.
pub fn longest<'a>(a: &'a str, b: &'a str) -> &'a str {
    if b.chars().count() > a.chars().count() {
        b
    } else {
        a
    }
}

/// The first whitespace-separated word of `s`, or `""` when there is none.
pub fn first_word(s: &str) -> &str {
    s.split_whitespace().next().unwrap_or("")
}

/// Splits `s` at the first `sep`, trimming both halves.
///
/// Returns `None` when `sep` does not occur in `s`.
pub fn split_pair(s: &str, sep: char) -> Option<(&str, &str)> {
    let idx = s.find(sep)?;
    Some((s[..idx].trim(), s[idx + sep.len_utf8()..].trim()))
}

/// Truncates `s` to at most `max` characters without splitting a character.
pub fn truncate_chars(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((idx, _)) => &s[..idx],
        None => s,
    }
}
