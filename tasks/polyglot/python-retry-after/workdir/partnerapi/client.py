"""The partner client: requests with retries."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from partnerapi.errors import PartnerError, RetryExhausted
from partnerapi.retry import RETRYABLE_STATUSES, RetryPolicy
from partnerapi.transport import Transport


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class PartnerClient:
    def __init__(
        self,
        transport: Transport,
        policy: RetryPolicy | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.transport = transport
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.clock = clock

    def get(self, path: str) -> Any:
        """GET `path` and decode its JSON body, retrying as the policy says."""
        attempt = 0
        while True:
            attempt += 1
            response = self.transport.request("GET", path)
            if 200 <= response.status < 300:
                return json.loads(response.body) if response.body else None
            delay = self.policy.delay_for(attempt, response.status, response.headers, self.clock())
            if delay is None:
                if response.status in RETRYABLE_STATUSES:
                    raise RetryExhausted(response.status, response.body, attempt)
                raise PartnerError(response.status, response.body)
            self.sleep(delay)
