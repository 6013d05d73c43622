"""Renewal dates and billing periods of a subscription (see the README for the rules)."""

from __future__ import annotations

from datetime import date, timedelta

from billing.plans import Interval


def renewal_dates(anchor: date, interval: Interval, count: int) -> list[date]:
    """The first `count` charge dates of a subscription started on `anchor` (anchor included)."""
    if count < 0:
        raise ValueError("count must not be negative")
    dates: list[date] = []
    current = anchor
    for _ in range(count):
        dates.append(current)
        current = current + interval.step
    return dates


def next_renewal(anchor: date, interval: Interval, after: date) -> date:
    """The first charge date strictly after `after`."""
    current = anchor
    while current <= after:
        current = current + interval.step
    return current


def billing_period(anchor: date, interval: Interval, day: date) -> tuple[date, date]:
    """The billing period (first day, last day) that contains `day`."""
    if day < anchor:
        raise ValueError(f"{day} is before the subscription started ({anchor})")
    start = anchor
    while True:
        following = start + interval.step
        if following > day:
            return start, following - timedelta(days=1)
        start = following
