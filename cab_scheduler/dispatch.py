"""The dispatch loop next to the broker: fan-out rounds over every active sweep, one leader at a time.

The laptop only records the plan (``cab submit``); a dispatcher loop (``cab dispatcher``, or a
thread of ``cab worker --dispatcher``) does the fan-out, one round of :mod:`cab_scheduler.fanout`
per active sweep. A round that filled its batch while cells remain is followed at once by the
next; otherwise the loop sleeps until woken or ``interval_s``. The reconciler runs every
``reconcile_every_s``. One dispatcher is active at a time (a Redis lease); others stand by. Every
period and limit comes from :class:`cab_core.settings.DispatcherSettings`.
"""

from __future__ import annotations

import threading
import time
import uuid

import redis
import structlog
from celery import Celery

from cab_core import keys
from cab_core.settings import DispatcherSettings
from cab_core.store import ResultStore
from cab_core.store import planned as plan
from cab_scheduler.celery_app import TASK_RUN_CELL, WAKE_CHANNEL
from cab_scheduler.fanout import DispatchReport, dispatch_once, reconcile
from cab_scheduler.publish import BatchPublisher

log = structlog.get_logger(__name__)

DISPATCHER_LEASE = keys.DISPATCHER
EPOCH = keys.EPOCH

_ACQUIRE_OR_RENEW = """
local owner = redis.call('get', KEYS[1])
if not owner then
  redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if owner == ARGV[1] then
  redis.call('pexpire', KEYS[1], ARGV[2])
  return 1
end
return 0
"""
"""Take the dispatcher lease if free, or extend it if ours; one atomic step."""

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""
"""Delete the dispatcher lease only if it is still ours (compare-and-delete)."""


class Dispatcher:
    """The dispatch loop: wakes on ``cab:wake`` or every ``settings.interval_s``; reconciles every
    ``settings.reconcile_every_s``.

    The sweeps it visits are the store's active ones, so a Redis that restarts empty loses none.
    One dispatcher leads at a time (``cab:dispatcher``, a Redis lease renewed by its own thread every
    third of ``settings.lease_s``, so a long round keeps it); a standby takes over when the leader stops or
    dies. The leader checks it still leads before every publish.

    ``cab:epoch`` marks the Redis the leader has seen: when it is gone, Redis restarted empty (its
    queues and ``cab:queued`` with it), and the leader reconciles every active sweep at once.
    """

    def __init__(
        self,
        *,
        store: ResultStore,
        app: Celery,
        client: redis.Redis,
        settings: DispatcherSettings,
    ) -> None:
        self.store, self.app, self.client = store, app, client
        self.settings = settings
        self.me = f"dispatcher-{uuid.uuid4().hex[:8]}"
        self.publisher = BatchPublisher(app, TASK_RUN_CELL)
        self._wake = threading.Event()
        self._leading = threading.Event()
        self._epoch: str | None = None
        self._suspects: dict[str, set[str]] = {}
        self._acquire_or_renew = client.register_script(_ACQUIRE_OR_RENEW)
        self._release = client.register_script(_RELEASE)

    def wake(self) -> None:
        self._wake.set()

    @property
    def leading(self) -> bool:
        return self._leading.is_set()

    def hold_lease(self) -> bool:
        """Take or renew the dispatcher lease; remembers whether this dispatcher leads."""
        try:
            held = bool(
                self._acquire_or_renew(
                    keys=[DISPATCHER_LEASE], args=[self.me, int(self.settings.lease_s * 1000)]
                )
            )
        except redis.RedisError:
            held = False
        (self._leading.set if held else self._leading.clear)()
        return held

    def release_lease(self) -> bool:
        """Drop the dispatcher lease if this dispatcher still holds it; True if it did."""
        self._leading.clear()
        return bool(self._release(keys=[DISPATCHER_LEASE], args=[self.me]))

    def redis_emptied(self) -> bool:
        """True once after Redis came back without the epoch this dispatcher set (restarted empty)."""
        current = self.client.get(EPOCH)
        value = current.decode() if isinstance(current, bytes) else current
        if value is not None and value == self._epoch:
            return False
        if value is None:
            value = f"{uuid.uuid4().hex[:12]} {time.time():.0f}"
            if not self.client.set(EPOCH, value, nx=True):
                again = self.client.get(EPOCH) or b""
                value = again.decode() if isinstance(again, bytes) else again
        lost = self._epoch is not None
        self._epoch = value
        if lost:
            log.warning("redis_emptied", epoch=value)
        return lost

    def round(self, *, reconcile_now: bool = False) -> list[DispatchReport]:
        """One pass over every active sweep."""
        emptied = self.redis_emptied()
        if emptied:
            self._suspects.clear()
        reports = []
        for sweep_id in plan.active_sweeps(self.store):
            if reconcile_now or emptied:
                # right after Redis lost everything there is nothing in flight to wait for
                suspects = None if emptied else self._suspects.setdefault(sweep_id, set())
                reconcile(sweep_id, store=self.store, client=self.client, suspects=suspects)
            report = dispatch_once(
                sweep_id,
                store=self.store,
                app=self.app,
                client=self.client,
                settings=self.settings,
                publisher=self.publisher,
                leading=lambda: self.leading,
            )
            reports.append(report)
            if report.budget_spent or (report.pending == 0 and plan.open_count(self.store, sweep_id) == 0):
                plan.set_inactive(self.store, sweep_id, stopped=report.budget_spent)
                self._suspects.pop(sweep_id, None)
                log.info("sweep_inactive", sweep_id=sweep_id, stopped=report.budget_spent)
        return reports

    def run(self, stop: threading.Event) -> None:
        """Loop until ``stop`` is set; tolerant of Redis and store outages (logs and retries)."""
        listener = threading.Thread(target=self._listen, args=(stop,), name="dispatcher-wake", daemon=True)
        renewer = threading.Thread(target=self._renew, args=(stop,), name="dispatcher-lease", daemon=True)
        listener.start()
        renewer.start()
        last_reconcile = time.monotonic()
        try:
            while not stop.is_set():
                more = False
                try:
                    if self.leading or self.hold_lease():
                        due = time.monotonic() - last_reconcile >= self.settings.reconcile_every_s
                        more = any(r.more for r in self.round(reconcile_now=due))
                        last_reconcile = time.monotonic() if due else last_reconcile
                except Exception as e:  # noqa: BLE001 - the loop must survive broker/store restarts
                    log.warning("dispatcher_round_failed", error=f"{type(e).__name__}: {e}"[:300])
                if more:
                    continue  # a full batch went out and cells remain: no pause between rounds
                self._wake.wait(self.settings.interval_s)
                self._wake.clear()
        finally:
            stop.set()
            renewer.join(timeout=5)
            try:
                self.release_lease()
            except redis.RedisError as e:
                log.warning("dispatcher_release_failed", error=f"{type(e).__name__}: {e}"[:300])
            listener.join(timeout=5)

    def _renew(self, stop: threading.Event) -> None:
        while not stop.wait(self.settings.lease_s / 3):
            was = self.leading
            if not self.hold_lease() and was:
                log.warning("dispatcher_lease_lost", me=self.me)

    def _listen(self, stop: threading.Event) -> None:
        while not stop.is_set():
            pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(WAKE_CHANNEL)
                while not stop.is_set():
                    if pubsub.get_message(timeout=1.0):
                        self._wake.set()
            except redis.RedisError:
                stop.wait(1.0)
            finally:
                pubsub.close()
