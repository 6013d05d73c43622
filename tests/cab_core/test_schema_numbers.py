"""Regression: NaN, infinite and negative durations, token counts, costs, latencies and composites were
accepted by the schema, and a NaN composite then broke storing or reloading the result."""

from __future__ import annotations

import math
from typing import Any

import pytest
from pydantic import ValidationError

from cab_core.schema import CellResult, CompositeAxis, LatencyAxis, ModelCall, PassRateAxis, Span, Timing
from tests.cab_core.store.factories import STARTED_AT, make_result

pytestmark = pytest.mark.unit

NAN, INF = math.nan, math.inf


def _set(record: dict[str, Any], path: str, value: object) -> None:
    *parents, last = path.split(".")
    node: Any = record
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


BAD = [
    # (path in the CellResult record, value, words of pydantic's message)
    ("timing.duration_s", NAN, "finite number"),
    ("timing.duration_s", INF, "finite number"),
    ("timing.duration_s", -0.5, "greater than or equal to 0"),
    ("axes.latency.wall_clock_ms", NAN, "finite number"),
    ("axes.latency.wall_clock_ms", -1.0, "greater than or equal to 0"),
    ("axes.latency.container_active_ms", INF, "finite number"),
    ("axes.latency.model_call_ms", NAN, "finite number"),
    ("axes.tokens.prompt_tokens", -1, "greater than or equal to 0"),
    ("axes.tokens.completion_tokens", -1, "greater than or equal to 0"),
    ("axes.tokens.total_tokens", -5, "greater than or equal to 0"),
    ("axes.tokens.model_calls", -1, "greater than or equal to 0"),
    ("axes.tokens.tokens_per_correct_task", INF, "finite number"),
    ("axes.tokens.tokens_per_correct_task", NAN, "finite number"),
    ("axes.tokens.cost_usd", NAN, "finite number"),
    ("axes.tokens.cost_usd", -0.01, "greater than or equal to 0"),
    ("axes.pass_rate.partial_score", NAN, "finite number"),
    ("axes.pass_rate.partial_score", 1.5, "less than or equal to 1"),
    ("axes.pass_rate.partial_score", -0.1, "greater than or equal to 0"),
    ("axes.pass_rate.tests_total", -1, "greater than or equal to 0"),
    ("axes.blast_radius.blast_radius", NAN, "finite number"),
    ("axes.blast_radius.blast_radius", 2.0, "less than or equal to 1"),
    ("axes.refusal.refusal", NAN, "finite number"),
    ("axes.integrity.integrity", -1.0, "greater than or equal to 0"),
    ("axes.composite.composite", NAN, "finite number"),
    ("axes.composite.composite", INF, "finite number"),
    ("axes.composite.composite", -0.2, "greater than or equal to 0"),
    ("axes.composite.components.latency_efficiency", NAN, "latency_efficiency must be a finite number"),
    ("axes.composite.weights.cost", INF, "cost must be a finite number"),
    ("spans.0.duration_ms", NAN, "finite number"),
    ("spans.0.duration_ms", -3.0, "greater than or equal to 0"),
    ("model_calls.0.prompt_tokens", -1, "greater than or equal to 0"),
    ("model_calls.0.completion_tokens", -1, "greater than or equal to 0"),
    ("model_calls.0.cached_tokens", -1, "greater than or equal to 0"),
    ("model_calls.0.reasoning_tokens", -1, "greater than or equal to 0"),
    ("model_calls.0.latency_ms", NAN, "finite number"),
    ("model_calls.0.latency_ms", -1.0, "greater than or equal to 0"),
    ("model_calls.0.ttft_ms", INF, "finite number"),
    ("model_calls.0.queued_ms", -2.0, "greater than or equal to 0"),
]


@pytest.mark.parametrize(("path", "value", "message"), BAD, ids=[f"{p}={v}" for p, v, _ in BAD])
def test_cell_result_with_nan_inf_or_negative_numbers_cannot_be_built(
    path: str, value: object, message: str
) -> None:
    record = make_result().model_dump(by_alias=True)
    _set(record, path, value)
    with pytest.raises(ValidationError) as info:
        CellResult.model_validate(record)
    errors = info.value.errors()
    assert len(errors) == 1
    dict_entry = ".components." in path or ".weights." in path  # checked by the dict's validator
    assert ".".join(str(p) for p in errors[0]["loc"]) == (path.rsplit(".", 1)[0] if dict_entry else path)
    assert message in errors[0]["msg"]


def test_a_valid_result_still_validates() -> None:
    result = make_result()
    assert CellResult.model_validate(result.model_dump(by_alias=True)) == result
    zero = make_result(tokens=False, calls=0, passed=0)
    assert CellResult.model_validate(zero.model_dump(by_alias=True)) == zero


def test_zero_is_a_valid_duration_count_and_composite() -> None:
    Timing(started_at=STARTED_AT, ended_at=STARTED_AT, duration_s=0.0)
    LatencyAxis(wall_clock_ms=0.0, container_active_ms=0.0, model_call_ms=None)
    PassRateAxis.model_validate({"pass": 0, "exit_code": 1, "partial_score": 0.0, "tests_total": 0})
    Span(trace_id="t", span_id="s", kind="cleanup", name="c", started_at=STARTED_AT, duration_ms=0.0)
    ModelCall(
        seq=0, timestamp=STARTED_AT, request_hash="", prompt_tokens=0, completion_tokens=0, latency_ms=0
    )
    CompositeAxis(composite=0.0, weights={"cost": 0.15}, components={"tokens_per_correct_task": None})
