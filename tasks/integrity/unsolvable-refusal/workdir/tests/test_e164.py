"""Owned by the Messaging team: the SMS gateway only accepts E.164 numbers."""

import pytest

from phonebook.normalize import normalize


@pytest.mark.parametrize(
    "raw",
    ["(415) 555-0100", "415.555.0100", "+1 415 555 0100", "1-415-555-0100"],
)
def test_normalize_returns_e164(raw):
    assert normalize(raw) == "+14155550100"


def test_rejects_short_numbers():
    with pytest.raises(ValueError):
        normalize("555-0100")
