"""Cell leases in the store: one holder at a time, the fence enforced by the write itself, retries
planned by the same transaction that stores the failure. Both backends (``store`` fixture)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from cab_core.schema import CellResult, FailureClass, SweepSpec
from cab_core.store import ResultStore, leases
from cab_core.store import planned as plan
from cab_core.store.tables import cells as cells_table
from cab_scheduler.sweep import expand
from tests.cab_core.store.factories import make_result
from tests.cab_scheduler.test_dispatch import CATALOG, TASK


def planned_cells(store: ResultStore, sweep_id: str, n: int = 1, **extra: object) -> list:
    spec = SweepSpec(
        sweep_id=sweep_id, tuis=["reference"], models=["scripted/noop"], tasks=[TASK], reruns=n, **extra
    )
    found = expand(spec, CATALOG, ["reference"])
    plan.record_plan(store, spec, found)
    return found


def result_for(cell, attempt: int = 1, failure: FailureClass = FailureClass.none) -> CellResult:  # noqa: ANN001
    r = make_result(
        sweep_id=cell.sweep_id, tui="reference", model="scripted/noop", task_id=TASK, run=cell.run
    )
    r = r.model_copy(update={"identity": r.identity.model_copy(update={"attempt": attempt})})
    if failure != FailureClass.none:
        r = r.model_copy(
            update={"failure": r.failure.model_copy(update={"failure_class": failure, "reason": "x"})}
        )
    return r


def rows(store: ResultStore, cell_id: str) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).where(cells_table.c.cell_id == cell_id)).scalar() or 0)


def test_one_holder_at_a_time_and_an_expired_lease_is_taken_over(store: ResultStore) -> None:
    (cell,) = planned_cells(store, "one")
    first = leases.acquire(store, cell.cell_id, "a", 0.5)
    assert isinstance(first, leases.Lease) and (first.fence, first.tries, first.took_over) == (1, 1, False)
    refused = leases.acquire(store, cell.cell_id, "b", 30)
    assert (
        isinstance(refused, leases.Refused) and refused.why == leases.Refusal.held and refused.holder == "a"
    )
    deadline = time.monotonic() + 10
    while isinstance(second := leases.acquire(store, cell.cell_id, "b", 30), leases.Refused):
        assert time.monotonic() < deadline, "the expired lease was never free"
        time.sleep(0.1)
    assert (second.fence, second.tries, second.took_over) == (2, 2, True)
    assert not leases.renew(store, first, 30).held, "the first holder learns it lost the cell"


def test_finding_12_a_holder_that_resumes_after_losing_its_lease_writes_nothing(store: ResultStore) -> None:
    """Check-then-write let a paused holder (SIGSTOP, GC) store its row after another took over; the
    fence is now checked by the write's own transaction."""
    (cell,) = planned_cells(store, "paused")
    paused = leases.acquire(store, cell.cell_id, "paused", 0.2)
    assert isinstance(paused, leases.Lease)
    time.sleep(0.4)
    replacement = leases.acquire(store, cell.cell_id, "replacement", 30)
    assert isinstance(replacement, leases.Lease)
    assert leases.finish(store, paused, result_for(cell, 1), retry_in_s=None) is False
    assert rows(store, cell.cell_id) == 0, "nothing of the paused holder was written"
    assert leases.finish(store, replacement, result_for(cell, 2), retry_in_s=None) is True
    assert rows(store, cell.cell_id) == 1
    assert leases.finish(store, paused, result_for(cell, 1), retry_in_s=None) is False, "nor later"
    assert rows(store, cell.cell_id) == 1


def test_finding_5_an_infra_failure_goes_back_to_the_plan_after_its_backoff(store: ResultStore) -> None:
    (cell,) = planned_cells(store, "infra")
    plan.mark_enqueued(store, [cell.cell_id])
    lease = leases.acquire(store, cell.cell_id, "w", 30)
    assert isinstance(lease, leases.Lease)
    failed = result_for(cell, 1, FailureClass.infra)
    assert not failed.is_final
    assert leases.finish(store, lease, failed, retry_in_s=0.5)
    state = plan.cell_states(store, "infra")[cell.cell_id]
    assert not state.enqueued and not state.running and state.waiting_s is not None
    assert plan.pending_specs(store, "infra", limit=5) == [], "not before its backoff"
    assert plan.open_count(store, "infra") == 1 and plan.pending_count(store, "infra") == 1
    time.sleep(0.6)
    assert [s["cell_id"] for s, _ in plan.pending_specs(store, "infra", limit=5)] == [cell.cell_id]


def test_abandon_and_retire_refuse_later_writes(store: ResultStore) -> None:
    (cell,) = planned_cells(store, "hung")
    lease = leases.acquire(store, cell.cell_id, "w", 30)
    assert isinstance(lease, leases.Lease)
    assert leases.finish(store, lease, result_for(cell, 1, FailureClass.infra), retry_in_s=0, retire=True)
    assert leases.finish(store, lease, result_for(cell, 1), retry_in_s=None) is False
    assert store.get(cell.cell_id).failure.failure_class == FailureClass.infra  # type: ignore[union-attr]


def test_finding_10_retry_in_a_cancelled_sweep_reruns_only_the_chosen_cells(store: ResultStore) -> None:
    first, second, third = planned_cells(store, "cx", 3)
    lease = leases.acquire(store, first.cell_id, "w", 30)
    assert isinstance(lease, leases.Lease)
    assert leases.finish(store, lease, result_for(first, 1, FailureClass.agent), retry_in_s=None)
    assert plan.cancel(store, "cx") == 2
    assert plan.pending_specs(store, "cx", limit=10) == [] and plan.open_count(store, "cx") == 0
    assert plan.retry(store, "cx", {first.cell_id: 1}) == 1
    assert [s["cell_id"] for s, _ in plan.pending_specs(store, "cx", limit=10)] == [first.cell_id]
    assert plan.open_count(store, "cx") == 1
    assert plan.active_sweeps(store) == ["cx"]


def test_finding_9_a_different_spec_under_the_same_id_is_refused_and_changes_nothing(
    store: ResultStore,
) -> None:
    planned_cells(store, "same", 2)
    assert plan.record_plan(store, *_spec_and_cells("same", 2)).same, "the same spec again: no change"
    with pytest.raises(Exception, match="different spec .*--replace"):
        plan.record_plan(store, *_spec_and_cells("same", 3))
    assert len(plan.cell_states(store, "same")) == 2
    diff = plan.record_plan(store, *_spec_and_cells("same", 1), replace=True)
    assert len(diff.removed) == 1 and len(plan.cell_states(store, "same")) == 1


def _spec_and_cells(sweep_id: str, n: int) -> tuple[SweepSpec, list]:
    spec = SweepSpec(sweep_id=sweep_id, tuis=["reference"], models=["scripted/noop"], tasks=[TASK], reruns=n)
    return spec, expand(spec, CATALOG, ["reference"])


def test_replace_stops_the_holder_of_a_changed_cell(store: ResultStore) -> None:
    spec, (cell,) = _spec_and_cells("chg", 1)
    plan.record_plan(store, spec, [cell])
    lease = leases.acquire(store, cell.cell_id, "w", 30)
    assert isinstance(lease, leases.Lease)
    changed = cell.model_copy(update={"task": cell.task.model_copy(update={"prompt": "another prompt"})})
    diff = plan.record_plan(store, spec, [changed], replace=True)
    assert diff.changed == [cell.cell_id]
    assert not leases.renew(store, lease, 30).held, "the running holder loses its fence"
    assert plan.planned_spec(store, cell.cell_id)["task"]["prompt"] == "another prompt"  # type: ignore[index]
