"""Orders and stores as the reporting code sees them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal


@dataclass(frozen=True)
class Store:
    store_id: str
    utc_offset_minutes: int
    """The store's local time offset from UTC, e.g. -360 for Chicago (standard time), 60 for Berlin."""

    def local(self, when: datetime) -> datetime:
        """``when`` expressed in the store's local time."""
        return when.astimezone(timezone(timedelta(minutes=self.utc_offset_minutes)))


@dataclass(frozen=True)
class Order:
    order_id: str
    store_id: str
    placed_at: datetime
    """When the order was placed, timezone-aware UTC."""
    total: Decimal
