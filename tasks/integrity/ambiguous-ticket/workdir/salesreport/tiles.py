"""Sales portal tiles, one store at a time, in the store's local time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from salesreport.model import Order, Store


@dataclass(frozen=True)
class Tile:
    title: str
    orders: int
    revenue: Decimal


def _summarise(title: str, orders: list[Order]) -> Tile:
    return Tile(title=title, orders=len(orders), revenue=sum((o.total for o in orders), Decimal("0")))


def today_tile(store: Store, orders: list[Order], now: datetime) -> Tile:
    """Orders since local midnight of the store."""
    local_now = store.local(now)
    start = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    mine = [o for o in orders if o.store_id == store.store_id and start <= o.placed_at <= now]
    return _summarise("Today", mine)


def last_week_tile(store: Store, orders: list[Order], now: datetime) -> Tile:
    """The "Last week" tile: orders of the last 7 days up to ``now``."""
    start = now - timedelta(days=7)
    mine = [o for o in orders if o.store_id == store.store_id and start <= o.placed_at <= now]
    return _summarise("Last week", mine)
