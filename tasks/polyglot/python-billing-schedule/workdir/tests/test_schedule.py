from datetime import date

import pytest

from billing.cli import main
from billing.plans import CATALOGUE, Interval
from billing.proration import upgrade_charge
from billing.schedule import billing_period, next_renewal, renewal_dates


def test_monthly_mid_month_anchor():
    assert renewal_dates(date(2024, 1, 15), Interval.MONTHLY, 4) == [
        date(2024, 1, 15),
        date(2024, 2, 15),
        date(2024, 3, 15),
        date(2024, 4, 15),
    ]


def test_quarterly_and_yearly():
    assert renewal_dates(date(2024, 2, 10), Interval.QUARTERLY, 3) == [
        date(2024, 2, 10),
        date(2024, 5, 10),
        date(2024, 8, 10),
    ]
    assert renewal_dates(date(2023, 6, 1), Interval.YEARLY, 2) == [date(2023, 6, 1), date(2024, 6, 1)]


def test_no_dates():
    assert renewal_dates(date(2024, 1, 15), Interval.MONTHLY, 0) == []
    with pytest.raises(ValueError):
        renewal_dates(date(2024, 1, 15), Interval.MONTHLY, -1)


def test_next_renewal():
    anchor = date(2024, 1, 15)
    assert next_renewal(anchor, Interval.MONTHLY, date(2024, 3, 14)) == date(2024, 3, 15)
    assert next_renewal(anchor, Interval.MONTHLY, date(2024, 3, 15)) == date(2024, 4, 15)
    assert next_renewal(anchor, Interval.MONTHLY, date(2023, 12, 1)) == anchor


def test_billing_period():
    anchor = date(2024, 1, 15)
    assert billing_period(anchor, Interval.MONTHLY, date(2024, 3, 2)) == (date(2024, 2, 15), date(2024, 3, 14))
    assert billing_period(anchor, Interval.MONTHLY, anchor) == (anchor, date(2024, 2, 14))
    with pytest.raises(ValueError):
        billing_period(anchor, Interval.MONTHLY, date(2024, 1, 14))


def test_upgrade_charge_pro_rata():
    anchor = date(2024, 1, 15)
    # Period 2024-02-15 .. 2024-03-14 has 29 days; 10 are left on 2024-03-05.
    charge = upgrade_charge(anchor, CATALOGUE["starter-m"], CATALOGUE["team-m"], date(2024, 3, 5))
    assert charge == round(2000 * 10 / 29)
    assert upgrade_charge(anchor, CATALOGUE["team-m"], CATALOGUE["starter-m"], date(2024, 3, 5)) == 0
    with pytest.raises(ValueError):
        upgrade_charge(anchor, CATALOGUE["team-m"], CATALOGUE["team-y"], date(2024, 3, 5))


def test_cli(capsys):
    assert main(["2024-01-15", "monthly", "2"]) == 0
    assert capsys.readouterr().out == "2024-01-15\n2024-02-15\n"
