"""Replay planning and comparison: which cells can replay, as what, and what counts as a difference."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cab_core.errors import ConfigError
from cab_core.schema import Budget, Exchange, ReplayEndpointSpec, Span
from cab_core.store import ResultStore
from cab_scheduler.catalog import TaskCatalog
from cab_workers.cell.replay_plan import compare, plan_replay, plan_sweep_replay
from tests.cab_core.store.factories import make_result, make_sweep

pytestmark = pytest.mark.unit

CATALOG = TaskCatalog(Path(__file__).resolve().parents[3] / "tasks")
ADAPTERS = ["reference"]
TASK = "polyglot/rust-lifetime-fix"
ANSWER = Exchange(
    seq=0,
    request_hash="a" * 64,
    endpoint_path="/v1/chat/completions",
    http_status=200,
    content_type="application/json",
    request_body=b"{}",
    response_body=b'{"choices":[]}',
)


@pytest.fixture
def store(tmp_path: Path) -> ResultStore:
    store = ResultStore(f"sqlite:///{tmp_path / 'cab.db'}")
    store.create_schema()
    store.record_sweep(
        make_sweep(
            "demo",
            tuis=["reference"],
            models=["scripted/oracle", "scripted/hang"],
            tasks=[TASK],
            reruns=1,
            endpoint="scripted",
            api_key_env=None,
            budget=Budget(max_tokens=1000),
        )
    )
    return store


def record(store: ResultStore, model: str, *, answers: bool, attempt: int = 1) -> str:
    result = make_result(sweep_id="demo", tui="reference", model=model, task_id=TASK, attempt=attempt)
    store.upsert_result(result.model_copy(update={"exchanges": [ANSWER] if answers else []}))
    return result.identity.cell_id


def test_a_sweep_replays_every_cell_with_answers_and_says_why_the_others_cannot(store: ResultStore) -> None:
    oracle = record(store, "scripted/oracle", answers=True)
    hang = record(store, "scripted/hang", answers=False)
    gone = record(store, "scripted/retired", answers=True)  # no longer a model of the sweep

    plans, cannot = plan_sweep_replay(store, CATALOG, ADAPTERS, "demo")

    assert [p.recorded.identity.cell_id for p in plans] == [oracle]
    (plan,) = plans
    assert plan.cell.cell_id == oracle.replace("demo/", "demo.replay/", 1)
    assert plan.cell.sweep_id == "demo.replay"
    assert plan.cell.policy.endpoint == ReplayEndpointSpec()
    assert plan.cell.policy.budget is None and plan.cell.policy.model_concurrency is None
    assert plan.exchanges == [ANSWER]
    assert sorted(cannot) == sorted([hang, gone])
    assert "no recorded model answers" in cannot[hang]
    assert "not a cell of sweep 'demo' any more" in cannot[gone]


def test_a_single_cell_replays_its_latest_attempt_unless_told(store: ResultStore) -> None:
    cell_id = record(store, "scripted/oracle", answers=True)
    record(store, "scripted/oracle", answers=False, attempt=2)
    with pytest.raises(ConfigError, match="attempt 2 has no recorded model answers"):
        plan_replay(store, CATALOG, ADAPTERS, cell_id)
    assert plan_replay(store, CATALOG, ADAPTERS, cell_id, attempt=1).recorded.identity.attempt == 1


def test_unknown_sweeps_and_cells_are_config_errors_naming_what_exists(store: ResultStore) -> None:
    record(store, "scripted/oracle", answers=True)
    with pytest.raises(ConfigError, match=r"no results for sweep 'demo2' \(sweeps in the store: demo\)"):
        plan_sweep_replay(store, CATALOG, ADAPTERS, "demo2")
    with pytest.raises(ConfigError, match="no result for cell"):
        plan_replay(store, CATALOG, ADAPTERS, "demo/reference/scripted/oracle/polyglot/nope")


@pytest.mark.parametrize(
    ("told", "again"), [(32768, 32768), (None, None), ("32768", None), (True, None), (0, None)]
)
def test_a_replay_tells_the_tui_the_context_the_recorded_one_was_told(
    store: ResultStore, told: Any, again: int | None
) -> None:
    attrs = {"model_build_id": "m"} | ({} if told is None else {"context_tokens": told})
    span = Span(
        trace_id="1" * 32, span_id="2" * 32, kind="endpoint", name="local",
        started_at=datetime.now(UTC), duration_ms=1.0, attrs=attrs,
    )  # fmt: skip
    result = make_result(sweep_id="demo", tui="reference", model="scripted/oracle", task_id=TASK)
    store.upsert_result(result.model_copy(update={"exchanges": [ANSWER], "spans": [span]}))
    assert plan_replay(store, CATALOG, ADAPTERS, result.identity.cell_id).context_tokens == again


def test_compare_flags_each_axis_that_moved_and_nothing_else() -> None:
    recorded = make_result(passed=1)
    assert all(row.same for row in compare(recorded, recorded))
    failed = make_result(passed=0)
    moved = {row.axis for row in compare(recorded, failed) if not row.same}
    assert moved == {"pass", "partial_score", "tokens_per_correct_task"}
    unscored = recorded.model_copy(update={"axes": None})
    rows = compare(recorded, unscored)
    assert rows and not any(row.same for row in rows if row.recorded is not None)


def test_a_replay_runs_the_task_version_the_recorded_cell_ran(store: ResultStore, tmp_path: Path) -> None:
    """The local task changed since the cell ran: the replay uses the stored bundle of the version it ran."""
    import shutil

    from cab_core.store import task_bundles
    from cab_core.task_bundle import pack

    tasks = tmp_path / "tasks"
    shutil.copytree(CATALOG.root / TASK, tasks / TASK)
    ran, bundle = pack(tasks / TASK)
    task_bundles.save(store, [ran], lambda h: task_bundles.Bundle(TASK, bundle))
    spec = tasks / TASK / "task.yaml"
    spec.write_text(spec.read_text().replace("prompt: |", "prompt: |\n  (edited since)", 1))
    result = make_result(sweep_id="demo", tui="reference", model="scripted/oracle", task_id=TASK)
    ident = result.identity.model_copy(update={"task_hash": ran})
    store.upsert_result(result.model_copy(update={"identity": ident, "exchanges": [ANSWER]}))

    replay = plan_replay(store, TaskCatalog(tasks), ADAPTERS, result.identity.cell_id)
    assert replay.cell.task_hash == ran
    assert "(edited since)" not in replay.cell.task.prompt
    assert replay.cell.task.prompt == CATALOG.load(TASK).prompt

    # a version that is neither stored nor local cannot be replayed faithfully
    lost = result.identity.model_copy(update={"task_hash": "d" * 64, "attempt": 2})
    store.upsert_result(result.model_copy(update={"identity": lost, "exchanges": [ANSWER]}))
    with pytest.raises(ConfigError, match="not in the store and not in the local tasks folder"):
        plan_replay(store, TaskCatalog(tasks), ADAPTERS, result.identity.cell_id)
