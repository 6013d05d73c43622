from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cab_core.schema import ModelCall, TokenSource
from cab_workers.scoring.latency import score_latency
from cab_workers.scoring.tokens import score_tokens

pytestmark = pytest.mark.unit

T0 = datetime(2026, 6, 16, tzinfo=UTC)


def call(seq: int, prompt: int | None, completion: int | None, latency_ms: float | None = None) -> ModelCall:
    return ModelCall(
        seq=seq,
        timestamp=T0,
        request_hash="0" * 64,
        prompt_tokens=prompt,
        completion_tokens=completion,
        latency_ms=latency_ms,
    )


@pytest.mark.parametrize(
    ("calls", "source", "passed", "want"),
    [
        # nothing recorded: unknown, never 0 (the seeds stored 0s)
        ([], TokenSource.none, 1, (None, None, None, None, None)),
        ([], TokenSource.proxy, 1, (None, None, None, None, None)),
        ([call(0, 10, 5)], TokenSource.none, 1, (None, None, None, None, None)),
        ([call(0, 1000, 200), call(1, 3000, 800)], TokenSource.proxy, 1, (4000, 1000, 5000, 2, 5000.0)),
        ([call(0, 1000, 200), call(1, 3000, 800)], TokenSource.tui_stdout, 2, (4000, 1000, 5000, 2, 2500.0)),
        # tokens known, nothing passed: no cost per correct task
        ([call(0, 1000, 200)], TokenSource.proxy, 0, (1000, 200, 1200, 1, None)),
        # one call without counts: sums would understate the cost, so they are unknown
        ([call(0, 1000, 200), call(1, None, None)], TokenSource.proxy, 1, (None, None, None, 2, None)),
        ([call(0, 1000, 200), call(1, 50, None)], TokenSource.proxy, 1, (1050, None, None, 2, None)),
        ([call(0, 0, 0)], TokenSource.proxy, 1, (0, 0, 0, 1, 0.0)),
    ],
)
def test_score_tokens(calls: list[ModelCall], source: TokenSource, passed: int, want: tuple) -> None:
    axis = score_tokens(calls=calls, source=source, passed=passed)
    got = (
        axis.prompt_tokens,
        axis.completion_tokens,
        axis.total_tokens,
        axis.model_calls,
        axis.tokens_per_correct_task,
    )
    assert got == want
    assert axis.pass_used_for_division == passed
    assert axis.source == (TokenSource.none if want[3] is None else source)


@pytest.mark.parametrize(
    ("calls", "want"),
    [
        ([], None),
        ([call(0, 1, 1)], None),
        ([call(0, 1, 1, 120.5), call(1, 1, 1, 79.5)], 200.0),
        ([call(0, 1, 1, 120.0), call(1, 1, 1)], 120.0),
    ],
)
def test_score_latency(calls: list[ModelCall], want: float | None) -> None:
    axis = score_latency(wall_clock_ms=11734.067, container_active_ms=11730.371, calls=calls)
    assert (axis.wall_clock_ms, axis.container_active_ms, axis.model_call_ms) == (11734.067, 11730.371, want)
