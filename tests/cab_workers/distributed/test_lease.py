"""The cell lease against a real Redis: exclusive, fenced, renewed, expiring, compare-and-delete."""

from __future__ import annotations

import threading

import pytest

from cab_workers.distributed.lease import CellLease
from tests.cab_workers.distributed.conftest import RedisServer, wait_for

pytestmark = pytest.mark.redis


def lease(server: RedisServer, holder: str, ttl_s: float = 1.0) -> CellLease:
    return CellLease(server.client(), "s/t/m/c/x", holder=holder, ttl_s=ttl_s)


def test_only_one_holder_and_every_acquisition_gets_a_new_fence(redis_server: RedisServer) -> None:
    a, b = lease(redis_server, "a"), lease(redis_server, "b")
    assert a.try_acquire()
    assert not b.try_acquire()
    assert a.still_held() and not b.still_held()
    first = a.fence
    a.release()
    assert b.try_acquire()
    assert b.fence > first


def test_release_only_deletes_its_own_lease(redis_server: RedisServer) -> None:
    a, b = lease(redis_server, "a", ttl_s=0.3), lease(redis_server, "b", ttl_s=5)
    assert a.try_acquire()
    wait_for(lambda: b.try_acquire(), 5, "a's lease to expire and b to take it")
    a.release()  # a's token is stale: b's lease must survive
    assert b.still_held()


def test_a_dead_holder_is_waited_out_but_a_live_one_is_not(redis_server: RedisServer) -> None:
    dead = lease(redis_server, "dead", ttl_s=0.5)
    assert dead.try_acquire()  # never renewed: as if its process was killed
    taker = lease(redis_server, "taker")
    assert taker.acquire(wait_s=5)
    taker.release()

    live = lease(redis_server, "live", ttl_s=0.6)
    assert live.try_acquire()
    with live.heartbeat(on_lost=lambda _r: None, should_stop=lambda: None):
        assert not lease(redis_server, "dup").acquire(wait_s=2.0), "a heartbeating holder keeps its lease"
    live.release()


def test_heartbeat_reports_a_stolen_lease_and_a_stop_request(redis_server: RedisServer) -> None:
    mine = lease(redis_server, "mine", ttl_s=0.6)
    assert mine.try_acquire()
    lost = threading.Event()
    reasons: list[str] = []
    with mine.heartbeat(on_lost=lambda r: (reasons.append(r), lost.set()), should_stop=lambda: None):
        redis_server.client().set(mine.key, "999:thief")  # a partition healed in someone else's favour
        assert lost.wait(5)
    assert reasons == ["lease lost"] and not mine.still_held()

    other = lease(redis_server, "other", ttl_s=0.6)
    redis_server.client().delete(other.key)
    assert other.try_acquire()
    stopped = threading.Event()
    with other.heartbeat(
        on_lost=lambda r: (reasons.append(r), stopped.set()), should_stop=lambda: "cancelled"
    ):
        assert stopped.wait(5)
    assert reasons[-1] == "cancelled"
