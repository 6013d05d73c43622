"""Per-endpoint concurrency caps for the proxy: how many calls may be in flight to one endpoint.

    LocalLimiter   one host: an asyncio semaphore per endpoint (``cab run``)
    RedisLimiter   every host sharing a Redis server: the lease semaphore of ``cab_core.semaphore``
                   (same Lua, same ``cab:sem:{name}`` keys), driven from the proxy's event loop

``slot(name, limit, wait_s)`` is an async context manager yielding the milliseconds it waited; it raises
``SlotTimeout`` when no slot frees up in ``wait_s`` and ``LimiterError`` when Redis cannot be asked.
A Redis slot is a lease of ``lease_s``, renewed every third of it by one task for all held slots, so
a proxy that dies frees its slots within a lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import random
import socket
import time
from collections.abc import AsyncIterator
from typing import Protocol

import redis.asyncio
import redis.exceptions
import structlog

from cab_core import keys
from cab_core.semaphore import ACQUIRE_LUA, RENEW_LUA

log = structlog.get_logger(__name__)

POLL_MIN_S, POLL_MAX_S = 0.01, 0.25
"""Bounds of the jittered poll while a Redis cap is full."""


class SlotTimeout(Exception):
    """No slot of the cap freed up in time."""


class LimiterError(Exception):
    """The limiter's backing store (Redis) failed."""


class Limiter(Protocol):
    def slot(self, name: str, limit: int, wait_s: float) -> contextlib.AbstractAsyncContextManager[float]: ...

    async def aclose(self) -> None: ...


class LocalLimiter:
    """Caps within this process; must be used from one event loop."""

    def __init__(self) -> None:
        self._sems: dict[str, asyncio.Semaphore] = {}

    @contextlib.asynccontextmanager
    async def slot(self, name: str, limit: int, wait_s: float) -> AsyncIterator[float]:
        sem = self._sems.setdefault(name, asyncio.Semaphore(limit))
        t0 = time.monotonic()
        try:
            await asyncio.wait_for(sem.acquire(), wait_s)
        except TimeoutError:
            raise SlotTimeout(f"no slot of {limit} free within {wait_s:g} s") from None
        try:
            yield (time.monotonic() - t0) * 1000
        finally:
            sem.release()

    async def aclose(self) -> None:
        self._sems.clear()


class RedisLimiter:
    """Caps shared by every proxy using the same Redis; create it inside the proxy's event loop."""

    def __init__(self, url: str, *, lease_s: float) -> None:
        self._client = redis.asyncio.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)
        self._acquire = self._client.register_script(ACQUIRE_LUA)
        self._renew = self._client.register_script(RENEW_LUA)
        self._lease_ms = max(1, round(lease_s * 1000))
        self._lease_s = lease_s
        self._prefix = f"proxy:{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._ids = itertools.count()
        self._held: dict[str, str] = {}
        """holder -> semaphore key, for the renewer."""
        self._renewer: asyncio.Task[None] | None = None

    @contextlib.asynccontextmanager
    async def slot(self, name: str, limit: int, wait_s: float) -> AsyncIterator[float]:
        key, holder = keys.semaphore(name), f"{self._prefix}:{next(self._ids)}"
        t0 = time.monotonic()
        deadline, poll = t0 + wait_s, POLL_MIN_S
        try:
            while not await self._acquire(keys=[key], args=[holder, limit, self._lease_ms]):
                if time.monotonic() >= deadline:
                    raise SlotTimeout(f"no slot of {limit} free within {wait_s:g} s")
                await asyncio.sleep(poll * (0.5 + random.random() / 2))
                poll = min(POLL_MAX_S, poll * 2)
        except redis.exceptions.RedisError as e:
            raise LimiterError(f"endpoint cap: redis error: {type(e).__name__}") from e
        self._held[holder] = key
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.create_task(self._renew_held())
        try:
            yield (time.monotonic() - t0) * 1000
        finally:
            self._held.pop(holder, None)
            with contextlib.suppress(redis.exceptions.RedisError):
                await self._client.zrem(key, holder)

    async def _renew_held(self) -> None:
        while self._held:
            await asyncio.sleep(self._lease_s / 3)
            for holder, key in list(self._held.items()):
                try:
                    if not await self._renew(keys=[key], args=[holder, self._lease_ms]):
                        log.warning("endpoint_cap_lease_lost", semaphore=key)
                except redis.exceptions.RedisError as e:
                    log.warning("endpoint_cap_renew_failed", semaphore=key, error=type(e).__name__)

    async def aclose(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
        await self._client.aclose()
