"""When to retry a failed request, and after how long (see "Retries" in the README)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})


def parse_retry_after(value: str, now: datetime) -> float | None:
    """Seconds to wait according to a Retry-After value; None when the value is unusable.

    The value is delta-seconds or an HTTP-date in any of the three formats of RFC 9110
    section 5.6.7, always UTC; `now` is an aware datetime in any zone.
    """
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # asctime format: no zone given, HTTP-dates are UTC
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now).total_seconds())


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value by case-insensitive name (HTTP/2 sends names in lower case)."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_s: float = 0.5
    cap_s: float = 30.0
    max_retry_after_s: float = 120.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def backoff(self, attempt: int) -> float:
        """Exponential backoff after failed attempt number `attempt` (1-based)."""
        return min(self.cap_s, self.base_s * 2 ** (attempt - 1))

    def delay_for(self, attempt: int, status: int, headers: Mapping[str, str], now: datetime) -> float | None:
        """Seconds to wait before the next attempt after attempt `attempt` failed with
        `status`; None when the request must not be retried."""
        if status not in RETRYABLE_STATUSES or attempt >= self.max_attempts:
            return None
        header = _header(headers, "Retry-After")
        if header is not None:
            wanted = parse_retry_after(header, now)
            if wanted is not None:
                return wanted if wanted <= self.max_retry_after_s else None
        return self.backoff(attempt)
