"""A cross-host counting semaphore in Redis with leases: caps concurrent cells per model or endpoint.

One sorted set per semaphore, ``cab:sem:{name}`` (see :mod:`cab_core.keys`)::

    member = holder id (e.g. "<host>:<pid>:<cell_id>")
    score  = lease expiry, epoch milliseconds on the *Redis* clock

Every mutation runs as one Lua script that first drops expired members, so a holder that crashed
without releasing frees its slot once its lease runs out. Time comes from ``TIME`` inside the script,
never from the client, so hosts with skewed clocks still agree. The key itself expires with its
longest lease, so an idle semaphore leaves nothing behind.

Redis exceptions are translated to :class:`cab_core.errors.InfraError` in ``_redis_errors``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import redis
import redis.exceptions
import structlog

from cab_core import keys
from cab_core.errors import ConfigError, InfraError

log = structlog.get_logger(__name__)

# Shared prologue: ``now`` in ms from the Redis clock, then drop every expired lease.
_PRUNE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
"""

# Let the key vanish with its longest lease.
_EXPIRE_WITH_LONGEST = """
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then redis.call('PEXPIREAT', KEYS[1], last[2]) end
"""

# KEYS[1] = zset, ARGV = holder, limit, lease_ms. Returns 1 when the holder has (or already had) a slot.
ACQUIRE_LUA = (  # also used by the model proxy's async endpoint cap (cab_workers.proxy.limits)
    _PRUNE
    + """
local lease_ms = tonumber(ARGV[3])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + lease_ms, ARGV[1])
"""
    + _EXPIRE_WITH_LONGEST
    + """
  return 1
end
return 0
"""
)

# KEYS[1] = zset, ARGV = holder, lease_ms. Returns 1 when the lease was extended, 0 when it was lost.
RENEW_LUA = (
    _PRUNE
    + """
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
"""
    + _EXPIRE_WITH_LONGEST
    + """
return 1
"""
)

# KEYS[1] = zset. Read-only: members whose lease has not expired, soonest expiry first.
_HOLDERS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')
"""


@contextlib.contextmanager
def _redis_errors(what: str) -> Iterator[None]:
    """Translate every redis-py exception into :class:`InfraError` with one line of context."""
    try:
        yield
    except redis.exceptions.RedisError as e:
        raise InfraError(f"{what}: redis error: {type(e).__name__}: {e}") from e


class RedisSemaphore:
    """At most ``limit`` holders of ``name`` at once, across every host sharing the Redis server.

    A slot is a lease of ``lease_s`` seconds; long holders call :meth:`renew` (or use :meth:`hold`,
    which renews in the background). Holder ids must be unique per concurrent holder.
    """

    def __init__(self, client: redis.Redis, name: str, limit: int, lease_s: float) -> None:
        if limit < 1:
            raise ConfigError(f"semaphore {name!r}: limit must be >= 1, got {limit}")
        if lease_s <= 0:
            raise ConfigError(f"semaphore {name!r}: lease_s must be > 0, got {lease_s}")
        self.name = name
        self.limit = limit
        self.lease_s = lease_s
        self.key = keys.semaphore(name)
        self._client = client
        self._lease_ms = max(1, round(lease_s * 1000))
        self._acquire = client.register_script(ACQUIRE_LUA)
        self._renew = client.register_script(RENEW_LUA)
        self._holders = client.register_script(_HOLDERS)

    def try_acquire(self, holder: str) -> bool:
        """Take a slot if one is free, without waiting. A current holder re-acquiring refreshes its lease."""
        with _redis_errors(f"semaphore {self.name!r}: acquire"):
            return bool(self._acquire(keys=[self.key], args=[holder, self.limit, self._lease_ms]))

    def acquire(self, holder: str, timeout_s: float, poll_s: float = 0.05) -> bool:
        """Poll :meth:`try_acquire` until it succeeds or ``timeout_s`` passes; ``False`` on timeout."""
        deadline = time.monotonic() + timeout_s
        while True:
            if self.try_acquire(holder):
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(poll_s, remaining))

    def renew(self, holder: str) -> bool:
        """Extend ``holder``'s lease by ``lease_s`` from now; ``False`` if it no longer holds a slot."""
        with _redis_errors(f"semaphore {self.name!r}: renew"):
            return bool(self._renew(keys=[self.key], args=[holder, self._lease_ms]))

    def release(self, holder: str) -> None:
        """Give the slot back. Idempotent: releasing a slot not held is a no-op."""
        with _redis_errors(f"semaphore {self.name!r}: release"):
            self._client.zrem(self.key, holder)

    def holders(self) -> list[str]:
        """Current holders with unexpired leases, soonest expiry first."""
        with _redis_errors(f"semaphore {self.name!r}: holders"):
            found = self._holders(keys=[self.key])
        return [h.decode() if isinstance(h, bytes) else str(h) for h in found]

    @contextlib.contextmanager
    def hold(self, holder: str, timeout_s: float, poll_s: float = 0.05) -> Iterator[None]:
        """Hold a slot for the ``with`` block, renewing the lease every ``lease_s / 3`` in the background.

        Raises :class:`InfraError` when no slot frees up within ``timeout_s`` (retryable: the cap is full).
        A lease lost mid-block (e.g. the renewer could not reach Redis for a whole lease) is logged as
        ``semaphore_lease_lost``; the block is not interrupted.
        """
        if not self.acquire(holder, timeout_s, poll_s):
            raise InfraError(f"semaphore {self.name!r}: no slot of {self.limit} free within {timeout_s} s")
        stop = threading.Event()
        renewer = threading.Thread(
            target=self._renew_until, args=(holder, stop), name=f"sem-renew-{self.name}", daemon=True
        )
        renewer.start()
        try:
            yield
        finally:
            stop.set()
            renewer.join()
            self.release(holder)

    def _renew_until(self, holder: str, stop: threading.Event) -> None:
        while not stop.wait(self.lease_s / 3):
            try:
                if not self.renew(holder):
                    log.warning("semaphore_lease_lost", semaphore=self.name, holder=holder)
                    return
            except InfraError as e:
                log.warning("semaphore_renew_failed", semaphore=self.name, holder=holder, error=str(e))
