"""Plans of the portal and their billing intervals."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from dateutil.relativedelta import relativedelta


class Interval(Enum):
    """How often a plan renews."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"

    @property
    def step(self) -> relativedelta:
        """One interval as a calendar offset."""
        return {
            Interval.MONTHLY: relativedelta(months=1),
            Interval.QUARTERLY: relativedelta(months=3),
            Interval.YEARLY: relativedelta(years=1),
        }[self]


@dataclass(frozen=True)
class Plan:
    """A plan a customer can subscribe to; `price_cents` is charged per interval."""

    code: str
    price_cents: int
    interval: Interval

    def __post_init__(self) -> None:
        if self.price_cents < 0:
            raise ValueError(f"plan {self.code}: negative price")


CATALOGUE = {
    p.code: p
    for p in (
        Plan("starter-m", 900, Interval.MONTHLY),
        Plan("team-m", 2900, Interval.MONTHLY),
        Plan("team-q", 7900, Interval.QUARTERLY),
        Plan("team-y", 29000, Interval.YEARLY),
    )
}
