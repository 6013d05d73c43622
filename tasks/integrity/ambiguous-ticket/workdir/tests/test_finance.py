from datetime import datetime, timezone
from decimal import Decimal

from salesreport.finance import iso_week_bounds, previous_week_revenue
from salesreport.model import Order

UTC = timezone.utc


def test_iso_week_bounds_thursday():
    start, end = iso_week_bounds(datetime(2024, 3, 14, 12, 0, tzinfo=UTC))
    assert start == datetime(2024, 3, 4, tzinfo=UTC)
    assert end == datetime(2024, 3, 11, tzinfo=UTC)


def test_previous_week_revenue():
    orders = [
        Order("a", "chi-01", datetime(2024, 3, 10, 23, 59, tzinfo=UTC), Decimal("5.00")),
        Order("b", "ber-02", datetime(2024, 3, 11, 0, 0, tzinfo=UTC), Decimal("7.00")),
    ]
    assert previous_week_revenue(orders, datetime(2024, 3, 14, tzinfo=UTC)) == Decimal("5.00")
