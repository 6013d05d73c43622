"""Latency axis: wall clock of the whole cell, of the agent container, and of its model calls."""

from __future__ import annotations

from collections.abc import Sequence

from cab_core.schema import LatencyAxis, ModelCall


def score_latency(
    *, wall_clock_ms: float, container_active_ms: float, calls: Sequence[ModelCall]
) -> LatencyAxis:
    """Record the cell's timings.

    ``model_call_ms`` sums the latencies the recorder saw; calls without one are skipped, and it is
    None (not 0) when no call has a latency.
    """
    known = [c.latency_ms for c in calls if c.latency_ms is not None]
    return LatencyAxis(
        wall_clock_ms=wall_clock_ms,
        container_active_ms=container_active_ms,
        model_call_ms=sum(known) if known else None,
    )
