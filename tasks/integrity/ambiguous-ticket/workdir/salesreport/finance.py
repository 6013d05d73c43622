"""Finance summaries: ISO weeks in UTC, matching the ledger close."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from salesreport.model import Order


def iso_week_bounds(now: datetime) -> tuple[datetime, datetime]:
    """Start (Monday 00:00 UTC, inclusive) and end (exclusive) of the ISO week before ``now``'s."""
    now = now.astimezone(timezone.utc)
    this_monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    return this_monday - timedelta(days=7), this_monday


def previous_week_revenue(orders: list[Order], now: datetime) -> Decimal:
    """Revenue of all stores in the previous ISO week."""
    start, end = iso_week_bounds(now)
    return sum((o.total for o in orders if start <= o.placed_at < end), Decimal("0"))
