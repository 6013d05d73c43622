//! The weight tiers of the rate card in force (currently the 2024 card, docs/rate-card-2024.md).

use crate::money::Cents;
use std::fmt;

/// Heaviest parcel the carrier accepts, in grams.
pub const MAX_WEIGHT_G: u32 = 20_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeeError {
    /// The scale reported 0 g.
    NoWeight,
    /// Over [`MAX_WEIGHT_G`]: the carrier refuses the parcel.
    TooHeavy(u32),
}

impl fmt::Display for FeeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FeeError::NoWeight => write!(f, "the scale reported no weight"),
            FeeError::TooHeavy(g) => write!(f, "{g} g is over the {MAX_WEIGHT_G} g limit"),
        }
    }
}

/// One tier: parcels up to and including `max_g` grams cost `fee`.
struct Tier {
    name: &'static str,
    max_g: u32,
    fee: Cents,
}

const TIERS: &[Tier] = &[
    Tier { name: "letter", max_g: 500, fee: Cents(295) },
    Tier { name: "small", max_g: 2_000, fee: Cents(545) },
    Tier { name: "large", max_g: MAX_WEIGHT_G, fee: Cents(890) },
];

/// The shipping fee of a parcel of `weight_g` grams.
pub fn fee(weight_g: u32) -> Result<Cents, FeeError> {
    tier(weight_g).map(|t| t.fee)
}

/// The name of the tier a parcel falls in (printed on the label).
pub fn tier_name(weight_g: u32) -> Result<&'static str, FeeError> {
    tier(weight_g).map(|t| t.name)
}

fn tier(weight_g: u32) -> Result<&'static Tier, FeeError> {
    if weight_g == 0 {
        return Err(FeeError::NoWeight);
    }
    TIERS
        .iter()
        .find(|t| weight_g <= t.max_g)
        .ok_or(FeeError::TooHeavy(weight_g))
}
