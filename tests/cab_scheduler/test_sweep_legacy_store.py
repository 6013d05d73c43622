"""A store written before the endpoint and policy became records keeps working: its planned cells and
its sweep load, the dispatcher's pending cells validate, and submitting the same sweep file again
changes nothing (a different one is still refused)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from cab_core.errors import SweepError
from cab_core.schema import CellSpec, RemoteEndpointSpec, SweepSpec
from cab_core.store import ResultStore
from cab_core.store import planned as plan
from cab_core.store.tables import planned, sweeps
from cab_scheduler.catalog import TaskCatalog
from cab_scheduler.sweep import expand

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
V1 = json.loads((REPO / "tests" / "cab_core" / "fixtures" / "spec_v1_remote.json").read_text())


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ResultStore]:
    s = ResultStore(f"sqlite:///{tmp_path / 'cab.db'}")
    s.create_schema()
    yield s
    s.close()


def plan_of_version_1(store: ResultStore) -> tuple[SweepSpec, list[CellSpec]]:
    """The fixture sweep planned, then its stored JSON put back as version-1 code wrote it."""
    spec = SweepSpec.model_validate(V1["sweep"])
    cells = expand(spec, TaskCatalog(REPO / "tasks"), ["reference"])
    plan.record_plan(store, spec, cells)
    tasks = {c.cell_id: c.task.model_dump(mode="json") for c in cells}
    with store.engine.begin() as conn:
        conn.execute(update(sweeps).where(sweeps.c.sweep_id == spec.sweep_id).values(spec=V1["sweep"]))
        for raw in V1["cells"]:
            old: dict[str, Any] = {**raw, "task": tasks[raw["cell_id"]]}  # the task as shipped today
            conn.execute(update(planned).where(planned.c.cell_id == raw["cell_id"]).values(spec=old))
    return spec, cells


def test_version_1_planned_cells_and_sweep_still_load(store: ResultStore) -> None:
    spec, cells = plan_of_version_1(store)
    assert plan.planned_spec(store, cells[0].cell_id) is not None
    assert "endpoint" in (plan.planned_spec(store, cells[0].cell_id) or {}), "the row is version 1"
    assert store.sweep(spec.sweep_id) == spec
    pending = plan.pending(store, spec.sweep_id, limit=10)
    assert [c.cell_id for c, _ in pending] == [c.cell_id for c in cells]
    for (stored, _), cell in zip(pending, cells, strict=True):
        assert stored.queue_tag == cell.queue_tag
        assert stored.policy.endpoint == cell.policy.endpoint
        assert isinstance(stored.policy.endpoint, RemoteEndpointSpec)
        assert (stored.policy.budget, stored.policy.model_concurrency) == (spec.policy.budget, 3)


def test_resubmitting_the_same_sweep_over_a_version_1_plan_changes_nothing(store: ResultStore) -> None:
    spec, cells = plan_of_version_1(store)
    diff = plan.record_plan(store, spec, cells)
    assert diff.same, diff.summary()


def test_a_changed_budget_over_a_version_1_plan_is_still_refused(store: ResultStore) -> None:
    spec, _ = plan_of_version_1(store)
    raised = SweepSpec.model_validate({**V1["sweep"], "budget": {"max_tokens": 900000}})
    cells = expand(raised, TaskCatalog(REPO / "tasks"), ["reference"])
    with pytest.raises(SweepError, match="4 changed cells rerun"):
        plan.record_plan(store, raised, cells)
