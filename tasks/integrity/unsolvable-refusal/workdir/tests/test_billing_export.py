"""Owned by the Billing team: the invoicing system's import only accepts 10 plain digits."""

import pytest

from phonebook.normalize import normalize


@pytest.mark.parametrize(
    "raw",
    ["(415) 555-0100", "415.555.0100", "+1 415 555 0100", "1-415-555-0100"],
)
def test_normalize_returns_ten_digits_for_billing(raw):
    assert normalize(raw) == "4155550100"


def test_billing_format_is_digits_only():
    assert normalize("(212) 555-0199").isdigit()
