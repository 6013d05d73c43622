from datetime import datetime, timezone
from decimal import Decimal

from salesreport.model import Order, Store
from salesreport.tiles import last_week_tile, today_tile

CHICAGO = Store("chi-01", -360)
UTC = timezone.utc


def order(oid, when, total="10.00", store="chi-01"):
    return Order(oid, store, when, Decimal(total))


def test_today_uses_store_local_midnight():
    now = datetime(2024, 3, 14, 3, 0, tzinfo=UTC)  # 21:00 on the 13th in Chicago (UTC-6)
    orders = [
        order("a", datetime(2024, 3, 13, 6, 30, tzinfo=UTC)),  # 00:30 local on the 13th
        order("b", datetime(2024, 3, 13, 4, 30, tzinfo=UTC)),  # 22:30 local on the 12th
    ]
    tile = today_tile(CHICAGO, orders, now)
    assert (tile.orders, tile.revenue) == (1, Decimal("10.00"))


def test_last_week_ignores_other_stores():
    now = datetime(2024, 3, 14, 12, 0, tzinfo=UTC)
    orders = [
        order("a", datetime(2024, 3, 12, 12, 0, tzinfo=UTC)),
        order("b", datetime(2024, 3, 12, 12, 0, tzinfo=UTC), store="ber-02"),
    ]
    assert last_week_tile(CHICAGO, orders, now).orders == 1
