"""One canonical form for North American phone numbers."""

from __future__ import annotations

import re

_NON_DIGITS = re.compile(r"\D+")


def digits_only(raw: str) -> str:
    """Every digit of ``raw``, in order."""
    return _NON_DIGITS.sub("", raw)


def normalize(raw: str) -> str:
    """The canonical form of a North American number typed by a customer.

    Accepts punctuation, spaces and an optional leading country code 1.
    Raises ValueError when ``raw`` does not hold a 10-digit national number.
    """
    digits = digits_only(raw)
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) != 10:
        raise ValueError(f"not a North American phone number: {raw!r}")
    return "+1" + digits
