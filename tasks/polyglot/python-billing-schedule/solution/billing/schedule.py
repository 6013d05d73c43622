"""Renewal dates and billing periods of a subscription (see the README for the rules)."""

from __future__ import annotations

from datetime import date, timedelta

from billing.plans import Interval


def renewal(anchor: date, interval: Interval, n: int) -> date:
    """Renewal `n` (0 is the anchor itself), always computed from the anchor.

    Adding one interval to the previous renewal would drift: 31 Jan + 1 month is 29 Feb, and
    29 Feb + 1 month is 29 Mar, not 31 Mar. `relativedelta` clamps to the month's last day.
    """
    return anchor + interval.step * n


def renewal_dates(anchor: date, interval: Interval, count: int) -> list[date]:
    """The first `count` charge dates of a subscription started on `anchor` (anchor included)."""
    if count < 0:
        raise ValueError("count must not be negative")
    return [renewal(anchor, interval, n) for n in range(count)]


def _index_of(anchor: date, interval: Interval, day: date) -> int:
    """The number of the last renewal on or before `day` (`day` must not precede `anchor`)."""
    n = 0
    while renewal(anchor, interval, n + 1) <= day:
        n += 1
    return n


def next_renewal(anchor: date, interval: Interval, after: date) -> date:
    """The first charge date strictly after `after`."""
    if after < anchor:
        return anchor
    return renewal(anchor, interval, _index_of(anchor, interval, after) + 1)


def billing_period(anchor: date, interval: Interval, day: date) -> tuple[date, date]:
    """The billing period (first day, last day) that contains `day`."""
    if day < anchor:
        raise ValueError(f"{day} is before the subscription started ({anchor})")
    n = _index_of(anchor, interval, day)
    return renewal(anchor, interval, n), renewal(anchor, interval, n + 1) - timedelta(days=1)
