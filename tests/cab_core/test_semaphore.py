"""RedisSemaphore against a real Redis: the cap holds under contention and crashed holders lose their slot."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis
import redis.exceptions
from redis.backoff import NoBackoff
from redis.retry import Retry
from structlog.testing import capture_logs

from cab_core import keys
from cab_core.errors import ConfigError, InfraError
from cab_core.semaphore import RedisSemaphore, _redis_errors
from tests.conftest import require

pytestmark = [pytest.mark.redis]

REDIS_URL = os.environ.get("CAB_BROKER_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="module")
def client() -> Iterator[redis.Redis]:
    c = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=5)
    try:
        ok = bool(c.ping())
    except redis.exceptions.RedisError:
        ok = False
    require(ok, f"Redis at {REDIS_URL}")
    yield c
    c.close()


@pytest.fixture
def make(client: redis.Redis) -> Iterator[Callable[..., RedisSemaphore]]:
    """Semaphores under a name unique to this test; their keys are deleted afterwards."""
    made: list[RedisSemaphore] = []
    prefix = f"test-{uuid.uuid4().hex}"

    def _make(limit: int = 1, lease_s: float = 30.0, name: str = "sem") -> RedisSemaphore:
        sem = RedisSemaphore(client, f"{prefix}-{name}", limit=limit, lease_s=lease_s)
        made.append(sem)
        return sem

    yield _make
    if made:
        client.delete(*{s.key for s in made})


def wait_until(pred: Callable[[], bool], timeout_s: float = 5.0, poll_s: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(poll_s)
    return pred()


def test_limit_enforced_under_20_contending_threads(make: Callable[..., RedisSemaphore]) -> None:
    limit = 3
    sem = make(limit=limit)
    lock = threading.Lock()
    inside = 0
    max_inside = 0
    done: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(20)

    def worker(i: int) -> None:
        nonlocal inside, max_inside
        holder = f"h{i}"
        try:
            start.wait(timeout=10)
            assert sem.acquire(holder, timeout_s=30, poll_s=0.005)
            with lock:
                inside += 1
                max_inside = max(max_inside, inside)
                assert len(sem.holders()) <= limit
            time.sleep(0.03)  # the "cell" runs
            with lock:
                inside -= 1
            sem.release(holder)
            done.append(holder)
        except BaseException as e:  # surfaced below; a thread must not swallow failures
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert len(done) == 20
    assert max_inside == limit
    assert sem.holders() == []


def test_crashed_holder_slot_frees_when_lease_expires(make: Callable[..., RedisSemaphore]) -> None:
    sem = make(limit=1, lease_s=0.3)
    assert sem.try_acquire("crashed")  # never released, never renewed
    assert not sem.try_acquire("next")
    assert sem.acquire("next", timeout_s=5, poll_s=0.02)
    assert sem.holders() == ["next"]
    assert not sem.renew("crashed")  # the crashed holder's lease is gone for good


def test_renew_keeps_the_slot_past_its_original_lease(make: Callable[..., RedisSemaphore]) -> None:
    sem = make(limit=1, lease_s=0.3)
    assert sem.try_acquire("a")
    until = time.monotonic() + 1.0  # over three original leases
    while time.monotonic() < until:
        assert sem.renew("a")
        assert not sem.try_acquire("b")
        time.sleep(0.05)  # heartbeat pace, well inside the lease
    assert sem.holders() == ["a"]


def test_renew_of_a_non_holder_is_false_and_takes_no_slot(make: Callable[..., RedisSemaphore]) -> None:
    sem = make(limit=1)
    assert not sem.renew("nobody")
    assert sem.holders() == []
    assert sem.try_acquire("a")


def test_lease_score_comes_from_the_redis_clock(
    client: redis.Redis, make: Callable[..., RedisSemaphore]
) -> None:
    sem = make(limit=1, lease_s=10.0)
    assert sem.try_acquire("a")
    secs, micros = client.time()
    now_ms = secs * 1000 + micros // 1000
    score = client.zscore(sem.key, "a")
    assert score is not None
    assert 9_000 <= score - now_ms <= 10_000
    assert 0 < client.pttl(sem.key) <= 10_000  # the key goes away with its longest lease


def test_release_is_idempotent(make: Callable[..., RedisSemaphore]) -> None:
    sem = make(limit=1)
    sem.release("never-held")
    assert sem.try_acquire("a")
    sem.release("a")
    sem.release("a")
    assert sem.holders() == []
    assert sem.try_acquire("b")


def test_reacquire_by_the_holder_does_not_take_a_second_slot(make: Callable[..., RedisSemaphore]) -> None:
    sem = make(limit=2)
    assert sem.try_acquire("a")
    assert sem.try_acquire("a")
    assert sem.holders() == ["a"]
    assert sem.try_acquire("b")
    assert not sem.try_acquire("c")


def test_independent_names_do_not_interfere(make: Callable[..., RedisSemaphore]) -> None:
    gpt = make(limit=1, name="gpt")
    claude = make(limit=1, name="claude")
    assert gpt.key != claude.key
    assert gpt.try_acquire("a")
    assert claude.try_acquire("b")
    assert not gpt.try_acquire("c")
    gpt.release("a")
    assert claude.holders() == ["b"]


def test_key_comes_from_the_key_module(make: Callable[..., RedisSemaphore]) -> None:
    sem = make()
    assert sem.key == keys.semaphore(sem.name)
    assert sem.key.startswith("cab:sem:")


def test_acquire_times_out_when_full(make: Callable[..., RedisSemaphore]) -> None:
    sem = make(limit=1)
    assert sem.try_acquire("a")
    t0 = time.monotonic()
    assert not sem.acquire("b", timeout_s=0.2, poll_s=0.05)
    assert time.monotonic() - t0 < 2.0


def test_hold_releases_on_exit_even_on_error(make: Callable[..., RedisSemaphore]) -> None:
    sem = make(limit=1)
    with pytest.raises(RuntimeError, match="boom"), sem.hold("a", timeout_s=1):
        assert sem.holders() == ["a"]
        raise RuntimeError("boom")
    assert sem.holders() == []


def test_hold_renews_in_the_background(make: Callable[..., RedisSemaphore]) -> None:
    sem = make(limit=1, lease_s=0.3)
    with sem.hold("a", timeout_s=1):
        until = time.monotonic() + 1.0  # over three leases without a manual renew
        while time.monotonic() < until:
            assert not sem.try_acquire("b")
            time.sleep(0.05)
    assert sem.holders() == []


def test_hold_raises_infra_error_when_full(make: Callable[..., RedisSemaphore]) -> None:
    sem = make(limit=1)
    assert sem.try_acquire("a")
    with pytest.raises(InfraError, match="no slot"), sem.hold("b", timeout_s=0.1):
        pass


def test_hold_logs_a_lost_lease(make: Callable[..., RedisSemaphore]) -> None:
    sem = make(limit=1, lease_s=0.3)
    with capture_logs() as logs, sem.hold("a", timeout_s=1):
        sem.release("a")  # someone else's bug: the slot vanishes under the holder
        assert wait_until(lambda: any(e["event"] == "semaphore_lease_lost" for e in logs))
    lost = [e for e in logs if e["event"] == "semaphore_lease_lost"]
    assert lost[0]["holder"] == "a" and lost[0]["log_level"] == "warning"


@pytest.mark.parametrize(("limit", "lease_s"), [(0, 1.0), (-1, 1.0), (1, 0.0), (1, -5.0)])
def test_bad_limits_are_config_errors(client: redis.Redis, limit: int, lease_s: float) -> None:
    with pytest.raises(ConfigError):
        RedisSemaphore(client, "bad", limit=limit, lease_s=lease_s)


@pytest.mark.parametrize(
    "exc",
    [
        redis.exceptions.ConnectionError("refused"),
        redis.exceptions.TimeoutError("slow"),
        redis.exceptions.ResponseError("NOSCRIPT"),
        redis.exceptions.AuthenticationError("denied"),
        redis.exceptions.RedisError("anything else"),
    ],
)
def test_every_redis_error_becomes_infra_error(exc: redis.exceptions.RedisError) -> None:
    with (
        pytest.raises(InfraError, match="^semaphore 'x': acquire: redis error") as info,
        _redis_errors("semaphore 'x': acquire"),
    ):
        raise exc
    assert info.value.__cause__ is exc
    assert "\n" not in str(info.value)


def test_unreachable_redis_is_infra_error() -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dead = redis.Redis(
        host="127.0.0.1",
        port=port,
        socket_connect_timeout=0.5,
        socket_timeout=0.5,
        retry=Retry(NoBackoff(), 0),
    )
    sem = RedisSemaphore(dead, f"test-{uuid.uuid4().hex}", limit=1, lease_s=1.0)
    for call in (lambda: sem.try_acquire("a"), lambda: sem.renew("a"), lambda: sem.release("a"), sem.holders):
        with pytest.raises(InfraError, match="redis error"):
            call()
    dead.close()
