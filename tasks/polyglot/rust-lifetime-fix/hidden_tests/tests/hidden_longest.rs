// Scoring tests for `textutil::longest`; copied into the work dir only when grading.

mod tests {
    use textutil::longest;

    #[test]
    fn empty_left() {
        assert_eq!(longest("", "x"), "x");
        assert_eq!(longest("", ""), "");
    }

    #[test]
    fn picks_longer() {
        assert_eq!(longest("short", "longer one"), "longer one");
        assert_eq!(longest("longer one", "short"), "longer one");
        // Length is counted in characters, not bytes: "ééé" is 3 chars (6 bytes).
        assert_eq!(longest("ééé", "abcd"), "abcd");
    }

    #[test]
    fn ties_pick_left() {
        let left = String::from("left");
        let right = String::from("rght");
        let got = longest(&left, &right);
        assert_eq!(got, "left");
        assert!(std::ptr::eq(got, left.as_str()), "tie must return the first argument itself");
    }

    #[test]
    fn works_with_mixed_lifetimes() {
        let owned = String::from("from an owned buffer");
        let picked;
        {
            let literal: &'static str = "short";
            picked = longest(&owned, literal);
        }
        assert_eq!(picked, "from an owned buffer");
    }
}
