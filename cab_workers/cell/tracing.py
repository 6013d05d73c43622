"""Spans for the cell pipeline: one trace per cell attempt, ids shaped like the seed pages'."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cab_core.schema import Span


def new_id() -> str:
    """32 lowercase hex characters."""
    return uuid.uuid4().hex


@dataclass
class OpenSpan:
    """A span being timed; set ``attrs`` and ``error`` while it is open."""

    span_id: str
    parent_id: str | None
    kind: str
    name: str
    started_at: datetime
    t0: float
    attrs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


class Tracer:
    """Collects finished spans of one cell attempt, in start order."""

    def __init__(self, trace_id: str | None = None) -> None:
        self.trace_id = trace_id or new_id()
        self._spans: list[tuple[float, Span]] = []

    @contextmanager
    def span(
        self, kind: str, name: str, *, parent: OpenSpan | None = None, **attrs: Any
    ) -> Iterator[OpenSpan]:
        """Time a phase. An exception escaping the block is recorded as the span's error and re-raised."""
        s = OpenSpan(
            new_id(),
            parent.span_id if parent else None,
            kind,
            name,
            datetime.now(UTC),
            time.monotonic(),
            dict(attrs),
        )
        try:
            yield s
        except BaseException as e:
            s.error = s.error or f"{type(e).__name__}: {e}"[:500]
            raise
        finally:
            self._spans.append(
                (
                    s.t0,
                    Span(
                        trace_id=self.trace_id,
                        span_id=s.span_id,
                        parent_id=s.parent_id,
                        kind=s.kind,
                        name=s.name,
                        started_at=s.started_at,
                        duration_ms=(time.monotonic() - s.t0) * 1000,
                        attrs=s.attrs,
                        error=s.error,
                    ),
                )
            )

    @property
    def spans(self) -> list[Span]:
        return [s for _, s in sorted(self._spans, key=lambda pair: pair[0])]
