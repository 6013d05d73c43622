"""`cab status` from the store and Redis: it never promises progress that is not happening."""

from __future__ import annotations

from pathlib import Path

import pytest

from cab_core import keys
from cab_core.schema import FailureClass
from cab_core.store import ResultStore, leases
from cab_scheduler.status import sweep_status
from cab_workers.distributed import retries
from cab_workers.distributed.worker import announce
from tests.cab_core.store.test_leases import planned_cells, result_for
from tests.conftest import RedisServer

pytestmark = pytest.mark.redis


@pytest.fixture
def store(tmp_path: Path) -> ResultStore:
    s = ResultStore(f"sqlite:///{tmp_path / 'r.db'}")
    s.create_schema()
    return s


def test_a_sweep_nobody_works_on_is_stalled_and_says_why(
    store: ResultStore, redis_server: RedisServer
) -> None:
    planned_cells(store, "idle", 2)
    client = redis_server.client()
    status = sweep_status(store, client, "idle", stall_after_s=0)
    assert status is not None and not status.finished
    assert status.stalled_s is not None and status.eta_s is None
    assert any("no dispatcher" in w for w in status.why)
    assert any("no worker takes queue cab.cells.cpu" in w for w in status.why)
    client.set(keys.DISPATCHER, "d", px=60_000)
    announce(client, "w-gpu", ["cab.cells.gpu"], 1, 60)
    why = sweep_status(store, client, "idle", stall_after_s=0).why  # type: ignore[union-attr]
    assert why == ["no worker takes queue cab.cells.cpu: start `cab worker --tags cpu`"]
    assert sweep_status(store, client, "idle", stall_after_s=3600).stalled_s is None  # type: ignore[union-attr]


def test_a_running_cell_is_progress_and_a_waiting_retry_is_not_a_stall(
    store: ResultStore, redis_server: RedisServer
) -> None:
    first, second = planned_cells(store, "busy", 2)
    client = redis_server.client()
    lease = leases.acquire(store, first.cell_id, "w", 60)
    assert isinstance(lease, leases.Lease)
    status = sweep_status(store, client, "busy", stall_after_s=0)
    assert status is not None and status.total.running == 1 and status.stalled_s is None
    assert leases.finish(store, lease, result_for(first, 1, FailureClass.infra), retry_in_s=600)
    other = leases.acquire(store, second.cell_id, "w", 60)
    assert isinstance(other, leases.Lease)
    assert leases.finish(store, other, result_for(second, 1, FailureClass.infra), retry_in_s=600)
    status = sweep_status(store, client, "busy", stall_after_s=0)
    assert status is not None and status.stalled_s is None, "both cells wait out their backoff"
    assert status.total.retrying == 2 and status.next_retry_s is not None and status.next_retry_s > 500


def test_a_finished_sweep_says_how_many_cells_ended_as_infra_failures_after_how_many_tries(
    store: ResultStore, redis_server: RedisServer
) -> None:
    (cell,) = planned_cells(store, "gaveup", 1)
    for attempt in (1, 2, 3):
        lease = leases.acquire(store, cell.cell_id, "w", 60)
        assert isinstance(lease, leases.Lease) and lease.tries == attempt
        result = retries.settle(result_for(cell, attempt, FailureClass.infra), lease.tries, 3)
        assert leases.finish(store, lease, result, retry_in_s=None if result.is_final else 0)
    status = sweep_status(store, redis_server.client(), "gaveup", stall_after_s=120)
    assert status is not None and status.finished
    assert status.gave_up == {3: 1} and status.total.failed == {"infra": 1}
    assert "gave up after 3 tries" in store.get(cell.cell_id).failure.reason  # type: ignore[union-attr]
