use ratecard::Cents;

#[test]
fn formats_euros_and_cents() {
    assert_eq!(Cents(495).to_string(), "4.95");
    assert_eq!(Cents(1150).to_string(), "11.50");
    assert_eq!(Cents(5).to_string(), "0.05");
}
