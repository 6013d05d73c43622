"""What the client needs from an HTTP stack: one request in, one response out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    """Header names as the server sent them (HTTP/2: lower case)."""
    body: str = ""


class Transport(Protocol):
    def request(self, method: str, path: str) -> Response: ...
