"""Fan-out next to the broker: planned cells -> per-capability queues, with admission control.

The laptop only records the plan (``cab submit``); a dispatcher loop (``cab dispatcher``, or a
thread of ``cab worker --dispatcher``) does the fan-out. A queue never holds more than
``max_queued`` cells, so a 100,000-cell sweep never floods Redis and hosts that join late still
get work. One dispatcher is active at a time (a Redis lease); others stand by.

The reconciler re-plans cells that were dispatched but have no result, no live lease and no queued
message (lost with a Redis that kept nothing, or a worker killed between taking and running it).
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field

import redis
import structlog
from celery import Celery

from cab_core import keys
from cab_core.schema import CellSpec
from cab_core.store import ResultStore
from cab_core.store import planned as plan
from cab_scheduler.celery_app import TASK_RUN_CELL, WAKE_CHANNEL, queue_for

log = structlog.get_logger(__name__)

DISPATCHER_LEASE = "cab:dispatcher"


@dataclass
class DispatchReport:
    sweep_id: str
    enqueued: int = 0
    pending: int = 0
    cancelled: bool = False
    per_queue: dict[str, int] = field(default_factory=dict)


def cell_message(cell: CellSpec, *, after_attempt: int = 0) -> dict:
    """Arguments of the run-cell task, plus the reprs Flower shows instead of the payload."""
    return {
        "kwargs": {"payload": {"cell": cell.model_dump(mode="json"), "after_attempt": after_attempt}},
        "argsrepr": repr((cell.cell_id,)),
        "kwargsrepr": repr(
            {
                "sweep": cell.sweep_id,
                "tui": cell.tui,
                "model": cell.model,
                "task": cell.task.task_id,
                "run": cell.run,
            }
        ),
    }


def queue_depth(client: redis.Redis, queue: str) -> int:
    """Messages waiting in a kombu Redis queue (the base list and its priority lists)."""
    names = [queue, *(f"{queue}\x06\x16{p}" for p in range(1, 10))]
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.llen(name)
    return sum(int(n) for n in pipe.execute())


def dispatch_once(
    sweep_id: str,
    *,
    store: ResultStore,
    app: Celery,
    client: redis.Redis,
    max_queued: int = 1000,
    batch: int = 2000,
) -> DispatchReport:
    """Enqueue as many pending cells as the queues have room for."""
    report = DispatchReport(sweep_id)
    if client.exists(keys.cancel(sweep_id)):
        report.cancelled = True
        return report
    with app.producer_or_acquire() as producer:
        for tag in plan.pending_queues(store, sweep_id):
            queue = queue_for(tag)
            room = max(0, max_queued - queue_depth(client, queue))
            chosen = plan.pending(store, sweep_id, limit=min(room, batch), queue=tag) if room else []
            if not chosen:
                continue
            client.sadd(keys.queued(sweep_id), *(c.cell_id for c, _ in chosen))
            for cell, after in chosen:
                app.send_task(
                    TASK_RUN_CELL, queue=queue, producer=producer, **cell_message(cell, after_attempt=after)
                )
            plan.mark_enqueued(store, (c.cell_id for c, _ in chosen))
            report.enqueued += len(chosen)
            report.per_queue[queue] = len(chosen)
    report.pending = plan.pending_count(store, sweep_id)
    if report.enqueued:
        log.info("dispatch_round", sweep_id=sweep_id, enqueued=report.enqueued, pending=report.pending)
    return report


def reconcile(sweep_id: str, *, store: ResultStore, client: redis.Redis) -> list[str]:
    """Re-plan dispatched cells with no result, no live lease and no queued message."""
    candidates = plan.unfinished_enqueued(store, sweep_id)
    if not candidates or client.exists(keys.cancel(sweep_id)):
        return []
    pipe = client.pipeline(transaction=False)
    for cell_id in candidates:
        pipe.exists(keys.lease(cell_id))
        pipe.sismember(keys.queued(sweep_id), cell_id)
    flags = pipe.execute()
    lost = [c for i, c in enumerate(candidates) if not flags[2 * i] and not flags[2 * i + 1]]
    if lost:
        plan.reset(store, lost)
        log.warning("reconcile_replanned", sweep_id=sweep_id, cells=len(lost))
    return lost


class Dispatcher:
    """The dispatch loop: wakes on ``cab:wake`` or every ``interval_s``; reconciles periodically."""

    def __init__(
        self,
        *,
        store: ResultStore,
        app: Celery,
        client: redis.Redis,
        max_queued: int = 1000,
        interval_s: float = 1.0,
        reconcile_every_s: float = 30.0,
        lease_s: float = 15.0,
    ) -> None:
        self.store, self.app, self.client = store, app, client
        self.max_queued, self.interval_s = max_queued, interval_s
        self.reconcile_every_s, self.lease_s = reconcile_every_s, lease_s
        self.me = f"dispatcher-{uuid.uuid4().hex[:8]}"
        self._wake = threading.Event()

    def wake(self) -> None:
        self._wake.set()

    def _hold_lease(self) -> bool:
        px = int(self.lease_s * 1000)
        if self.client.set(DISPATCHER_LEASE, self.me, nx=True, px=px):
            return True
        if (self.client.get(DISPATCHER_LEASE) or b"").decode() == self.me:
            self.client.pexpire(DISPATCHER_LEASE, px)
            return True
        return False

    def round(self, *, reconcile_now: bool = False) -> list[DispatchReport]:
        """One pass over every active sweep."""
        reports = []
        for raw in sorted(self.client.smembers(keys.ACTIVE_SWEEPS)):
            sweep_id = raw.decode() if isinstance(raw, bytes) else raw
            if reconcile_now:
                reconcile(sweep_id, store=self.store, client=self.client)
            report = dispatch_once(
                sweep_id, store=self.store, app=self.app, client=self.client, max_queued=self.max_queued
            )
            reports.append(report)
            if report.cancelled or (report.pending == 0 and plan.open_count(self.store, sweep_id) == 0):
                self.client.srem(keys.ACTIVE_SWEEPS, sweep_id)
                log.info("sweep_inactive", sweep_id=sweep_id, cancelled=report.cancelled)
        return reports

    def run(self, stop: threading.Event) -> None:
        """Loop until ``stop`` is set; tolerant of Redis and store outages (logs and retries)."""
        listener = threading.Thread(target=self._listen, args=(stop,), name="dispatcher-wake", daemon=True)
        listener.start()
        last_reconcile = 0.0
        while not stop.is_set():
            try:
                if self._hold_lease():
                    due = time.monotonic() - last_reconcile >= self.reconcile_every_s
                    self.round(reconcile_now=due)
                    last_reconcile = time.monotonic() if due else last_reconcile
            except Exception as e:  # noqa: BLE001 - the loop must survive broker/store restarts
                log.warning("dispatcher_round_failed", error=f"{type(e).__name__}: {e}"[:300])
            self._wake.wait(self.interval_s)
            self._wake.clear()

    def _listen(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                pubsub = self.client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(WAKE_CHANNEL)
                while not stop.is_set():
                    if pubsub.get_message(timeout=1.0):
                        self._wake.set()
            except redis.RedisError:
                stop.wait(1.0)
