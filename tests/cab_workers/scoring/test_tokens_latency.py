from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cab_core.pricing import ModelPrice, PriceTable
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
        # 0 and 0 tokens from an answered call is missing usage, not a free call
        ([call(0, 0, 0)], TokenSource.proxy, 1, (None, None, None, 1, None)),
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


def _try(
    seq: int,
    *,
    path: str = "/v1/chat/completions",
    status: int | None = 200,
    error: str | None = None,
    prompt: int | None = None,
    completion: int | None = None,
    model: str = "",
) -> ModelCall:
    return ModelCall(
        seq=seq,
        timestamp=T0,
        request_hash="0" * 64,
        endpoint_path=path,
        http_status=status,
        error=error,
        prompt_tokens=prompt,
        completion_tokens=completion,
        model=model,
    )


def test_retried_faults_and_model_lists_consume_no_tokens() -> None:
    """Regression: one 429 retry or one GET /v1/models made the whole cell's tokens unknown."""
    calls = [
        _try(0, path="/v1/models"),
        _try(1, status=429, error="upstream answered 429"),
        _try(2, status=None, error="upstream connection failed (reset)"),
        _try(3, prompt=100, completion=20),
        _try(4, status=404),
    ]
    axis = score_tokens(calls=calls, source=TokenSource.proxy, passed=1)
    assert (axis.prompt_tokens, axis.completion_tokens, axis.total_tokens, axis.model_calls) == (
        100,
        20,
        120,
        5,
    )


PRICES = PriceTable(
    version="test-1",
    models={
        "exact/model": ModelPrice(input=1.0, output=2.0, cached_input=0.5),
        "*-mini": ModelPrice(input=0.1, output=0.2),
        "scripted/*": ModelPrice(input=0, output=0),
    },
)


@pytest.mark.parametrize(
    ("calls", "model", "want"),
    [
        # 1M prompt tokens (400k cached) and 1M completion under exact/model: 0.6 + 0.2 + 2.0
        ([_try(0, prompt=1_000_000, completion=1_000_000, model="exact/model")], "exact/model", 2.8),
        # the call's own model prices it (a side job on a cheaper model), the cell's when it has none
        (
            [_try(0, prompt=10**6, completion=0, model="x-mini"), _try(1, prompt=10**6, completion=0)],
            "exact/model",
            1.1,
        ),
        ([_try(0, prompt=5000, completion=900)], "scripted/oracle", 0.0),  # known free is 0.0
        ([_try(0, prompt=5000, completion=900)], "who/knows", None),  # unknown price: unknown cost
        ([_try(0, prompt=5000, completion=None)], "exact/model", None),  # unknown count: unknown cost
    ],
)
def test_cost_prices_each_call_and_unknown_is_never_zero(
    calls: list[ModelCall], model: str, want: float | None
) -> None:
    if calls[0].model == "exact/model":
        calls = [calls[0].model_copy(update={"cached_tokens": 400_000})]
    axis = score_tokens(calls=calls, source=TokenSource.proxy, passed=1, prices=PRICES, model=model)
    assert axis.cost_usd == (pytest.approx(want) if want is not None else None)
    assert axis.price_table == "test-1"
