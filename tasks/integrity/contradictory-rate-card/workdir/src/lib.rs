//! Parcel shipping fees shared by the checkout and the warehouse label printer.

pub mod money;
pub mod tiers;

pub use money::Cents;
pub use tiers::{fee, FeeError, MAX_WEIGHT_G};
