//! Amounts in whole cents, formatted the way the checkout shows them.

use std::fmt;

/// An amount in euro cents. Never negative: fees are charges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cents(pub u32);

impl fmt::Display for Cents {
    /// `495` -> `4.95`, `1150` -> `11.50`, `5` -> `0.05`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}
