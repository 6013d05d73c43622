//! Acceptance test of the 2025 rate card (docs/rate-card-2025.md).
//! Written by Product from the signed-off card; changes need Product's sign-off.

use ratecard::{fee, Cents, FeeError};

#[test]
fn small_parcels_up_to_one_kilo_cost_4_95() {
    // "small: up to 1 kg"
    for weight_g in [1, 250, 999, 1_000] {
        assert_eq!(fee(weight_g), Ok(Cents(495)), "{weight_g} g");
    }
}

#[test]
fn medium_parcels_from_one_kilo_cost_6_95() {
    // "medium: 1 kg - 5 kg"
    for weight_g in [1_000, 1_001, 2_500, 4_999] {
        assert_eq!(fee(weight_g), Ok(Cents(695)), "{weight_g} g");
    }
}

#[test]
fn large_parcels_from_five_kilos_cost_11_50() {
    // "large: 5 kg - 20 kg"
    for weight_g in [5_000, 12_000, 20_000] {
        assert_eq!(fee(weight_g), Ok(Cents(1150)), "{weight_g} g");
    }
}

#[test]
fn over_twenty_kilos_is_refused() {
    assert_eq!(fee(20_001), Err(FeeError::TooHeavy(20_001)));
}

#[test]
fn zero_grams_is_a_scale_error() {
    assert_eq!(fee(0), Err(FeeError::NoWeight));
}
