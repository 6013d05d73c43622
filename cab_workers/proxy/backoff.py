"""Retry policy of the proxy, as pure functions: what is retried and how long to wait.

Retried: 429, 500, 502, 503, 504 (and 408, 409 "overloaded" style codes are not: they are the
agent's to handle), plus transport failures (connection refused/reset, upstream timeouts). The wait
is ``Retry-After`` when the upstream sends one (seconds or an HTTP date), else exponential
``base * 2**(n-1)`` with jitter in [0.5, 1]; either is capped at ``cap_s``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
"""Upstream statuses retried by the proxy before the client sees anything."""


def retryable(status: int) -> bool:
    return status in RETRYABLE_STATUS


def retry_after_s(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (delta seconds or HTTP date); None if absent/bad."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def backoff_s(
    failures: int,
    *,
    base_s: float,
    cap_s: float,
    retry_after: float | None = None,
    jitter: Callable[[], float] = random.random,
) -> float:
    """Wait before the next try after ``failures`` failed tries (1-based)."""
    if retry_after is not None:
        return min(cap_s, retry_after)
    raw = base_s * (1 << max(0, failures - 1))
    return min(cap_s, raw * (0.5 + 0.5 * jitter()))
