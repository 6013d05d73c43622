"""CellWatch with a real store and a real Redis: it keeps the lease through outages it can survive,
and stops the cell when the lease is really lost or the cell outlives its budget."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from cab_core.semaphore import RedisSemaphore
from cab_core.store import ResultStore, leases
from cab_core.store import planned as plan
from cab_workers.distributed.watch import CellWatch, StopReason
from tests.cab_workers.distributed.conftest import RedisServer, wait_for
from tests.cab_workers.distributed.test_execute import sweep_cells

pytestmark = pytest.mark.redis


@pytest.fixture
def held(tmp_path: Path) -> tuple[ResultStore, leases.Lease]:
    store = ResultStore(f"sqlite:///{tmp_path / 'r.db'}")
    store.create_schema()
    spec, cells = sweep_cells(tmp_path, "watched")
    plan.record_plan(store, spec, cells)  # type: ignore[arg-type]
    lease = leases.acquire(store, cells[0].cell_id, "w", 1.5)
    assert isinstance(lease, leases.Lease)
    return store, lease


def test_finding_7_a_redis_outage_neither_ends_the_watch_nor_loses_the_lease(
    held: tuple[ResultStore, leases.Lease], redis_server: RedisServer
) -> None:
    """The old heartbeat thread died on the first Redis error while the cell ran on; the lease then
    expired and a second holder ran the same cell. Leases now live in the store, and a Redis error
    (here: the model slot's renewal while Redis is down for several lease lengths) is survived."""
    store, lease = held
    slot = RedisSemaphore(redis_server.client(), "model:m", 1, lease_s=1.5)
    assert slot.try_acquire("me")
    stops: list[str] = []
    with CellWatch(
        store=store,
        lease=lease,
        ttl_s=1.5,
        budget_s=600,
        on_stop=stops.append,
        keep_slot=lambda: slot.renew("me") or slot.try_acquire("me"),
    ) as watch:
        redis_server.stop()
        taken = threading.Event()

        def try_take() -> bool:
            if isinstance(leases.acquire(store, lease.cell_id, "other", 30), leases.Lease):
                taken.set()
            return watch._thread is not None and not watch._thread.is_alive()

        for _ in range(8):  # ~4 s of outage, more than two lease lengths
            assert not try_take(), "the watch thread died"
            threading.Event().wait(0.5)
        redis_server.start()
        wait_for(lambda: slot.holders() == ["me"], 10, "the model slot taken again once Redis is back")
    assert not taken.is_set(), "nobody else could take the cell"
    assert stops == [] and watch.reason is None


def test_the_cell_stops_when_another_holder_takes_the_fence(held: tuple[ResultStore, leases.Lease]) -> None:
    store, lease = held
    stops: list[str] = []
    with CellWatch(store=store, lease=lease, ttl_s=1.5, budget_s=600, on_stop=stops.append):
        assert leases.abandon(store, lease)  # the fence moves, as a takeover or --replace moves it
        wait_for(lambda: stops, 10, "the watch to stop the cell")
    assert stops == [StopReason.lease_taken]


def test_a_cancel_stops_the_cell(held: tuple[ResultStore, leases.Lease]) -> None:
    store, lease = held
    stops: list[str] = []
    with CellWatch(store=store, lease=lease, ttl_s=1.5, budget_s=600, on_stop=stops.append):
        plan.cancel(store, "watched")
        wait_for(lambda: stops, 10, "the watch to stop the cancelled cell")
    assert stops == [StopReason.cancelled]


def test_finding_6_a_cell_past_its_budget_is_stopped_and_a_hung_one_gives_its_lease_up(
    held: tuple[ResultStore, leases.Lease],
) -> None:
    """Celery's time limits do not apply to the threads pool: a hung cell kept renewing its lease
    forever. cab's watchdog stops it at its budget, and when the pipeline still does not return
    (a Docker call that never returns), records the try and gives the cell up."""
    store, lease = held
    stops: list[str] = []
    hung = threading.Event()
    with CellWatch(
        store=store,
        lease=lease,
        ttl_s=1.5,
        budget_s=1.0,
        on_stop=stops.append,
        on_hung=hung.set,
        hang_grace_s=1.0,
    ):
        wait_for(hung.is_set, 15, "the watchdog to give the hung cell up")
    assert stops == [StopReason.deadline]


def test_the_model_slot_is_kept_past_its_lease(
    held: tuple[ResultStore, leases.Lease], redis_server: RedisServer
) -> None:
    """The per-model cap's slot was leased once for a fixed time: a longer cell let a second one in."""
    store, lease = held
    slot = RedisSemaphore(redis_server.client(), "model:long", 1, lease_s=1.0)
    assert slot.try_acquire("long-cell")
    with CellWatch(
        store=store,
        lease=lease,
        ttl_s=1.5,
        budget_s=600,
        on_stop=lambda _r: None,
        keep_slot=lambda: slot.renew("long-cell"),
        interval_s=0.3,
    ):
        threading.Event().wait(2.5)  # two and a half slot leases
        assert not slot.try_acquire("second-cell"), "the cap still holds"
