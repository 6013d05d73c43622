"""Regression: a NaN composite (or any NaN / infinity in a record) broke storing or reloading the result.

SQLite wrote ``NaN`` into the JSON record and every later read of the sweep failed; PostgreSQL's JSONB
refused it. The store now validates a result before it writes and refuses a broken one with
``StoreError``, writing nothing. Runs on SQLite and PostgreSQL (see conftest.py).
"""

from __future__ import annotations

import math

import pytest
from sqlalchemy import func, select

from cab_core.errors import CabError, StoreError
from cab_core.schema import CellResult, CompositeAxis, LatencyAxis, ModelCall, Span
from cab_core.store import ResultStore
from cab_core.store.tables import cells, exchanges, model_calls, spans
from tests.cab_core.store.factories import make_result


def _rows(store: ResultStore, cell_id: str) -> tuple[int, ...]:
    with store.engine.connect() as conn:
        return tuple(
            conn.execute(select(func.count()).select_from(t).where(t.c.cell_id == cell_id)).scalar_one()
            for t in (cells, spans, model_calls, exchanges)
        )


def _nan_composite(result: CellResult) -> CellResult:
    assert result.axes is not None
    fields = {**dict(result.axes.composite), "composite": math.nan}
    axes = result.axes.model_copy(update={"composite": CompositeAxis.model_construct(**fields)})
    return result.model_copy(update={"axes": axes})


def _inf_wall_clock(result: CellResult) -> CellResult:
    assert result.axes is not None
    latency = LatencyAxis.model_construct(**{**dict(result.axes.latency), "wall_clock_ms": math.inf})
    return result.model_copy(update={"axes": result.axes.model_copy(update={"latency": latency})})


def _nan_call_latency(result: CellResult) -> CellResult:
    first = ModelCall.model_construct(**{**dict(result.model_calls[0]), "latency_ms": math.nan})
    return result.model_copy(update={"model_calls": [first, *result.model_calls[1:]]})


def _negative_tokens(result: CellResult) -> CellResult:
    first = result.model_calls[0].model_copy(update={"prompt_tokens": -1})
    return result.model_copy(update={"model_calls": [first, *result.model_calls[1:]]})


BROKEN = [
    pytest.param(
        _nan_composite, "axes.composite.composite: Input should be a finite number", id="nan-composite"
    ),
    pytest.param(
        _inf_wall_clock, "axes.latency.wall_clock_ms: Input should be a finite number", id="inf-wall"
    ),
    pytest.param(
        _nan_call_latency, "model_calls.0.latency_ms: Input should be a finite number", id="nan-call"
    ),
    pytest.param(
        _negative_tokens, "model_calls.0.prompt_tokens: Input should be greater", id="negative-tokens"
    ),
]


def test_valid_result_round_trips(store: ResultStore) -> None:
    result = make_result(calls=3)
    store.upsert_result(result)
    back = store.get(result.identity.cell_id)
    assert back == result
    assert back is not None and back.axes is not None
    assert math.isfinite(back.axes.composite.composite)
    assert _rows(store, result.identity.cell_id) == (1, 5, 3, 0)


@pytest.mark.parametrize(("breaks", "reason"), BROKEN)
def test_record_with_nan_is_refused_by_the_store_and_writes_nothing(
    store: ResultStore, breaks, reason: str
) -> None:
    broken = breaks(make_result(calls=3))
    cell_id = broken.identity.cell_id
    with pytest.raises(StoreError) as info:
        store.upsert_result(broken)
    message = str(info.value)
    assert isinstance(info.value, CabError)
    assert message.startswith("result store refused a record at ")
    assert reason in message
    assert "nothing was written" in message and "\n" not in message
    assert _rows(store, cell_id) == (0, 0, 0, 0)
    assert store.get(cell_id) is None
    assert store.latest_by_cell(broken.identity.sweep_id) == {}  # the sweep still reads


@pytest.mark.parametrize(("breaks", "reason"), BROKEN)
def test_record_with_nan_does_not_replace_a_stored_attempt(store: ResultStore, breaks, reason: str) -> None:
    good = make_result(calls=3)
    store.upsert_result(good)
    with pytest.raises(StoreError, match="refused a record"):
        store.upsert_result(breaks(good))
    assert store.get(good.identity.cell_id) == good
    assert _rows(store, good.identity.cell_id) == (1, 5, 3, 0)


def test_span_built_without_validation_is_refused(store: ResultStore) -> None:
    result = make_result(calls=1)
    span = Span.model_construct(**{**dict(result.spans[0]), "duration_ms": -1.0})
    with pytest.raises(
        StoreError, match=r"spans\.0\.duration_ms: Input should be greater than or equal to 0"
    ):
        store.upsert_result(result.model_copy(update={"spans": [span, *result.spans[1:]]}))
    assert store.get(result.identity.cell_id) is None


def test_nan_in_free_form_span_attrs_is_stored_as_null(store: ResultStore) -> None:
    """No typed field to refuse it: pydantic's JSON mode writes NaN as null, and the record reads back."""
    result = make_result(calls=1)
    first = result.spans[0].model_copy(update={"attrs": {"ratio": math.nan}})
    store.upsert_result(result.model_copy(update={"spans": [first, *result.spans[1:]]}))
    back = store.get(result.identity.cell_id)
    assert back is not None and back.spans[0].attrs == {"ratio": None}
