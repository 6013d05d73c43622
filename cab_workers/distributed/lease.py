"""A per-cell lease in Redis: at most one host runs a cell at a time, even under redelivery.

Protocol (keys in ``cab_core.keys``)::

    fence   = INCR cab:fence:{cell}                       monotonically increasing token
    acquire = SET cab:lease:{cell} "<fence>:<holder>" NX PX ttl
    renew   = if GET == mine: PEXPIRE ttl                 (heartbeat, every ttl/3)
    check   = GET == mine                                 (before the result is written)
    release = if GET == mine: DEL                         (compare-and-delete)

A holder that dies stops renewing; its lease expires after ``ttl`` and a redelivery can take over.
A holder that loses its lease (paused, partitioned) notices on its next heartbeat and aborts; its
result is not written because ``check`` fails (the fencing token no longer matches).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import redis
import structlog

from cab_core import keys
from cab_core.errors import InfraError

log = structlog.get_logger(__name__)

_RENEW = (
    "if redis.call('GET', KEYS[1]) == ARGV[1] then "
    "return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0"
)
_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


@dataclass
class CellLease:
    """One holder's lease on one cell. Use :meth:`acquire`, then ``with lease.heartbeat(...)``."""

    client: redis.Redis
    cell_id: str
    holder: str
    ttl_s: float = 30.0
    token: str | None = None
    fence: int = 0
    lost: threading.Event = field(default_factory=threading.Event)

    @property
    def key(self) -> str:
        return keys.lease(self.cell_id)

    def try_acquire(self) -> bool:
        """Take the lease if nobody holds it; a new fencing token every time."""
        try:
            fence = int(self.client.incr(keys.fence(self.cell_id)))
            token = f"{fence}:{self.holder}"
            if self.client.set(self.key, token, nx=True, px=int(self.ttl_s * 1000)):
                self.token, self.fence = token, fence
                self.lost.clear()
                return True
            return False
        except redis.RedisError as e:
            raise InfraError(f"lease for {self.cell_id}: redis unreachable: {e}") from e

    def acquire(self, wait_s: float, poll_s: float = 0.2) -> bool:
        """Wait up to ``wait_s`` for a dead holder's lease to expire; False if it stays held."""
        deadline = time.monotonic() + wait_s
        while True:
            if self.try_acquire():
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(poll_s)

    def current_holder(self) -> str | None:
        value = self.client.get(self.key)
        return value.decode() if isinstance(value, bytes) else value

    def current_holder_safe(self) -> str | None:
        """Like :meth:`current_holder`, None when Redis does not answer."""
        try:
            return self.current_holder()
        except redis.RedisError:
            return None

    def renew(self) -> bool:
        if self.token is None:
            return False
        try:
            return bool(self.client.eval(_RENEW, 1, self.key, self.token, int(self.ttl_s * 1000)))
        except redis.RedisError:
            return False  # unknown: the next beat tries again; the lease may expire meanwhile

    def still_held(self) -> bool:
        try:
            return self.token is not None and self.current_holder() == self.token
        except redis.RedisError:
            return False

    def release(self) -> None:
        if self.token is None:
            return
        try:
            self.client.eval(_RELEASE, 1, self.key, self.token)
        except redis.RedisError as e:
            log.warning("lease_release_failed", cell_id=self.cell_id, error=str(e))
        self.token = None

    def heartbeat(
        self,
        *,
        on_lost: Callable[[str], None],
        should_stop: Callable[[], str | None],
        interval_s: float | None = None,
    ) -> _Heartbeat:
        """A background renewer; calls ``on_lost(reason)`` once when the lease is lost or the cell
        must stop (``should_stop`` returns a reason, e.g. the sweep was cancelled)."""
        return _Heartbeat(self, on_lost, should_stop, interval_s or self.ttl_s / 3)


class _Heartbeat:
    def __init__(
        self,
        lease: CellLease,
        on_lost: Callable[[str], None],
        should_stop: Callable[[], str | None],
        interval_s: float,
    ) -> None:
        self.lease, self.on_lost, self.should_stop, self.interval_s = lease, on_lost, should_stop, interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{lease.cell_id}", daemon=True)
        self.reason: str | None = None

    def _run(self) -> None:
        misses = 0
        while not self._stop.wait(self.interval_s):
            reason = self.should_stop()
            if reason is None:
                if self.lease.renew():
                    misses = 0
                    continue
                misses += 1
                if misses < 2 and self.lease.current_holder_safe() == self.lease.token:
                    continue
                reason = "lease lost"
            self.reason = reason
            self.lease.lost.set()
            log.warning("lease_stop", cell_id=self.lease.cell_id, reason=reason)
            self.on_lost(reason)
            return

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
