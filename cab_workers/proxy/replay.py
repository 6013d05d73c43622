"""Answers from a recorded cell instead of an endpoint: what ``cab replay`` puts behind the proxy.

A ``ReplayBook`` holds the ``Exchange`` list of one recorded attempt. Each request is answered by the
first unused exchange with the same request hash on the same path; when there is none (an agent whose
request carries a timestamp, say), by the first unused exchange on that path in recorded order, and
the call is marked ``replay="order"`` so the difference is visible. Nothing left: a miss, which the
proxy reports as an infra failure of the replay.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Literal

from cab_core.schema import Exchange

Match = Literal["hash", "order"]


class ReplayBook:
    """Recorded exchanges, each served once; thread-safe."""

    def __init__(self, exchanges: Iterable[Exchange], *, context_tokens: int | None = None) -> None:
        self._unused = sorted(exchanges, key=lambda e: e.seq)
        self.context_tokens = context_tokens
        """The context the recorded cell's TUI was told (None: it was told its default)."""
        self._lock = threading.Lock()

    def take(self, request_hash: str, endpoint_path: str) -> tuple[Exchange, Match] | None:
        """The recorded answer for this request, and how it was matched; None when none is left."""
        with self._lock:
            same_path = [e for e in self._unused if e.endpoint_path == endpoint_path]
            candidates: tuple[tuple[Match, Exchange | None], ...] = (
                ("hash", next((e for e in same_path if e.request_hash == request_hash), None)),
                ("order", same_path[0] if same_path else None),
            )
            for match, found in candidates:
                if found is not None:
                    self._unused.remove(found)
                    return found, match
            return None

    def __len__(self) -> int:
        with self._lock:
            return len(self._unused)
