use textutil::{first_word, longest, split_pair, truncate_chars};

#[test]
fn longest_prefers_the_longer_string() {
    assert_eq!(longest("ab", "abc"), "abc");
    assert_eq!(longest("abcd", "abc"), "abcd");
}

#[test]
fn first_word_skips_leading_space() {
    assert_eq!(first_word("  hello world"), "hello");
    assert_eq!(first_word("   "), "");
}

#[test]
fn split_pair_trims_both_sides() {
    assert_eq!(split_pair("key = value", '='), Some(("key", "value")));
    assert_eq!(split_pair("no separator", '='), None);
}

#[test]
fn truncate_respects_char_boundaries() {
    assert_eq!(truncate_chars("héllo", 2), "hé");
    assert_eq!(truncate_chars("hi", 10), "hi");
}
