"""The store's public surface, pinned."""

from __future__ import annotations

import inspect

import pytest

import cab_core.store
from cab_core.store import ResultStore, planned
from tests.cab_core.store.factories import make_result

pytestmark = pytest.mark.unit


def test_exported_members() -> None:
    assert cab_core.store.__all__ == ["ResultStore", "mask_url"]
    public = {n for n, _ in inspect.getmembers(ResultStore) if not n.startswith("_")}
    assert public == {
        "create_schema",
        "record_sweep",
        "upsert_result",
        "check",
        "get",
        "exchanges",
        "artifacts",
        "latest_by_cell",
        "final_cell_ids",
        "final_task_hashes",
        "next_attempt",
        "sweeps",
        "sweep",
        "sweep_spend",
        "sweep_signature",
        "iter_results",
        "close",
        "engine",
        "transaction",
        "reading",
    }


def test_planned_exported_members() -> None:
    assert planned.__all__ == [
        "CellState",
        "PlanDiff",
        "SweepState",
        "active_sweeps",
        "cancel",
        "cell_states",
        "first_and_last_result_at",
        "latest_summary",
        "mark_enqueued",
        "open_count",
        "open_queues",
        "pending",
        "pending_count",
        "pending_queues",
        "pending_specs",
        "planned_cells",
        "planned_spec",
        "record_plan",
        "reset",
        "retry",
        "set_inactive",
        "sweep_state",
        "sweep_stopped",
        "task_versions",
        "unfinished_enqueued",
    ]


def test_in_memory_sqlite_is_one_database_for_every_thread() -> None:
    with ResultStore("sqlite://") as store:
        store.create_schema()
        result = make_result()
        store.upsert_result(result)
        assert store.get(result.identity.cell_id) == result
