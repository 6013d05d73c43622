"""Errors raised by the partner client."""

from __future__ import annotations


class PartnerError(Exception):
    """The partner answered with an error status that is not retried."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"partner API answered {status}: {body[:200]}")
        self.status = status
        self.body = body


class RetryExhausted(PartnerError):
    """Every attempt failed with a retryable status, or the server asked us to wait too long."""

    def __init__(self, status: int, body: str, attempts: int) -> None:
        super().__init__(status, body)
        self.attempts = attempts
