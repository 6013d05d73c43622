"""Scoring tests for billing.schedule; copied into the work dir only when grading."""

from datetime import date

from billing.plans import CATALOGUE, Interval
from billing.proration import upgrade_charge
from billing.schedule import billing_period, next_renewal, renewal_dates


def test_end_of_month_anchor_returns_to_the_31st():
    assert renewal_dates(date(2024, 1, 31), Interval.MONTHLY, 7) == [
        date(2024, 1, 31),
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
        date(2024, 5, 31),
        date(2024, 6, 30),
        date(2024, 7, 31),
    ]


def test_anchor_on_the_30th_survives_february():
    assert renewal_dates(date(2023, 1, 30), Interval.MONTHLY, 4) == [
        date(2023, 1, 30),
        date(2023, 2, 28),
        date(2023, 3, 30),
        date(2023, 4, 30),
    ]


def test_quarterly_end_of_month():
    assert renewal_dates(date(2023, 8, 31), Interval.QUARTERLY, 5) == [
        date(2023, 8, 31),
        date(2023, 11, 30),
        date(2024, 2, 29),
        date(2024, 5, 31),
        date(2024, 8, 31),
    ]


def test_yearly_leap_day_anchor():
    assert renewal_dates(date(2024, 2, 29), Interval.YEARLY, 5) == [
        date(2024, 2, 29),
        date(2025, 2, 28),
        date(2026, 2, 28),
        date(2027, 2, 28),
        date(2028, 2, 29),
    ]


def test_long_schedule_never_drifts():
    dates = renewal_dates(date(2022, 12, 31), Interval.MONTHLY, 37)
    for d in dates:
        following = date(d.year + d.month // 12, d.month % 12 + 1, 1)
        assert d.day == 31 or (following - d).days == 1, d  # the 31st, or the month's last day


def test_next_renewal_after_a_short_month():
    anchor = date(2024, 1, 31)
    assert next_renewal(anchor, Interval.MONTHLY, date(2024, 3, 1)) == date(2024, 3, 31)
    assert next_renewal(anchor, Interval.MONTHLY, date(2024, 3, 29)) == date(2024, 3, 31)
    assert next_renewal(anchor, Interval.MONTHLY, date(2024, 3, 31)) == date(2024, 4, 30)
    assert next_renewal(date(2024, 2, 29), Interval.YEARLY, date(2027, 3, 1)) == date(2028, 2, 29)


def test_billing_periods_follow_the_anchor():
    anchor = date(2024, 1, 31)
    assert billing_period(anchor, Interval.MONTHLY, date(2024, 3, 15)) == (date(2024, 2, 29), date(2024, 3, 30))
    assert billing_period(anchor, Interval.MONTHLY, date(2024, 3, 30)) == (date(2024, 2, 29), date(2024, 3, 30))
    assert billing_period(anchor, Interval.MONTHLY, date(2024, 3, 31)) == (date(2024, 3, 31), date(2024, 4, 29))
    assert billing_period(anchor, Interval.MONTHLY, date(2024, 5, 30)) == (date(2024, 4, 30), date(2024, 5, 30))


def test_periods_tile_the_calendar():
    anchor = date(2023, 8, 31)
    day = anchor
    while day < date(2025, 9, 1):
        start, end = billing_period(anchor, Interval.QUARTERLY, day)
        assert start <= day <= end
        assert start in renewal_dates(anchor, Interval.QUARTERLY, 10)
        day = end.fromordinal(end.toordinal() + 1)
        assert billing_period(anchor, Interval.QUARTERLY, day)[0] == day


def test_upgrade_uses_the_right_period():
    anchor = date(2024, 1, 31)
    # Period 2024-03-31 .. 2024-04-29 (30 days): one day left on 2024-04-29.
    charge = upgrade_charge(anchor, CATALOGUE["starter-m"], CATALOGUE["team-m"], date(2024, 4, 29))
    assert charge == 67  # 2000 * 1 / 30 = 66.67
