"""When to retry a failed request, and after how long (see "Retries" in the README)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})

_IMF_FIXDATE = "%a, %d %b %Y %H:%M:%S GMT"


def parse_retry_after(value: str, now: datetime) -> float | None:
    """Seconds to wait according to a Retry-After value; None when the value is unusable."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = datetime.strptime(value, _IMF_FIXDATE)
    except ValueError:
        return None
    return max(0.0, (when - now.replace(tzinfo=None)).total_seconds())


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
        header = headers.get("Retry-After")
        if header is not None:
            wanted = parse_retry_after(header, now)
            if wanted is not None:
                return wanted if wanted <= self.max_retry_after_s else None
        return self.backoff(attempt)
