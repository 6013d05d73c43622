"""What a plan change in the middle of a billing period costs."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from billing.plans import Plan
from billing.schedule import billing_period


def upgrade_charge(anchor: date, old: Plan, new: Plan, change_day: date) -> int:
    """Cents to charge now for moving from `old` to `new` on `change_day` (0 for a downgrade).

    Both plans must share the billing interval; the difference is charged for the days left in
    the current period, `change_day` included.
    """
    if old.interval is not new.interval:
        raise ValueError("plan changes across intervals start a new subscription")
    start, end = billing_period(anchor, old.interval, change_day)
    period_days = (end - start).days + 1
    days_left = (end - change_day).days + 1
    diff = new.price_cents - old.price_cents
    if diff <= 0:
        return 0
    amount = Decimal(diff) * days_left / period_days
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))
