"""Fan-out next to the broker: planned cells -> per-capability queues, with admission control.

The laptop only records the plan (``cab submit``); a dispatcher loop (``cab dispatcher``, or a
thread of ``cab worker --dispatcher``) does the fan-out. A queue never holds more than
``max_queued`` cells, so a 100,000-cell sweep never floods Redis and hosts that join late still
get work. One dispatcher is active at a time (a Redis lease); others stand by.

Messages are published in batches (:mod:`cab_scheduler.publish`): the same messages ``send_task``
would store, one Redis round trip per queue per round. A round that filled its batch while cells
remain is followed at once by the next; otherwise the loop sleeps until woken or ``interval_s``.

The reconciler re-plans dispatched cells that nobody runs and whose message is gone (lost with a
Redis that kept nothing, acked by a delivery that ended early, or taken by a worker that died). The
store is the record: the sweeps visited, the leases, the tries and the retries' backoff live there,
so everything in Redis can be rebuilt from it.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis
import structlog
from celery import Celery

from cab_core import keys
from cab_core.budget import exhausted
from cab_core.schema import CellSpec
from cab_core.store import ResultStore
from cab_core.store import planned as plan
from cab_scheduler.celery_app import TASK_RUN_CELL, WAKE_CHANNEL, queue_for
from cab_scheduler.publish import BatchPublisher, TaskCall

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


@dataclass
class DispatchReport:
    sweep_id: str
    enqueued: int = 0
    pending: int = 0
    cancelled: bool = False
    budget_spent: str | None = None
    """Why the sweep's budget stops its fan-out, when it does."""
    per_queue: dict[str, int] = field(default_factory=dict)
    more: bool = False
    """A queue got a full batch and still had room: call again at once instead of waiting."""


def spec_message(spec: dict[str, Any], *, after_attempt: int = 0) -> dict[str, Any]:
    """Arguments of the run-cell task, plus the reprs Flower shows instead of the payload.

    ``spec`` is a cell spec as the plan stores it: ``CellSpec.model_dump(mode="json")``.
    """
    return {
        "kwargs": {"payload": {"cell": spec, "after_attempt": after_attempt}},
        "argsrepr": repr((spec["cell_id"],)),
        # what tells cells apart comes first: Flower's table cuts long cells off at the end
        "kwargsrepr": repr(
            {
                "model": spec["model"],
                "task": f"{spec['task']['category']}/{spec['task']['slug']}",  # TaskSpec.task_id
                "tui": spec["tui"],
                "run": spec["run"],
                "sweep": spec["sweep_id"],
            }
        ),
    }


def cell_message(cell: CellSpec, *, after_attempt: int = 0) -> dict[str, Any]:
    """Arguments of the run-cell task, plus the reprs Flower shows instead of the payload."""
    return spec_message(cell.model_dump(mode="json"), after_attempt=after_attempt)


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
    publisher: BatchPublisher | None = None,
    leading: Callable[[], bool] = lambda: True,
) -> DispatchReport:
    """Enqueue as many dispatchable cells as the queues have room for, at most ``batch`` per queue.

    ``leading`` is asked before each publish: a dispatcher that lost its lease mid-round publishes
    nothing more (the new leader does).
    """
    report = DispatchReport(sweep_id)
    state = plan.sweep_state(store, sweep_id)
    if state is None or state.stopped:
        report.budget_spent = state.stopped if state else None
        return report
    spec = store.sweep(sweep_id)
    report.budget_spent = exhausted(spec.budget if spec else None, store.sweep_spend(sweep_id))
    if report.budget_spent:
        log.warning("sweep_budget_spent", sweep_id=sweep_id, reason=report.budget_spent)
        return report
    publisher = publisher or BatchPublisher(app, TASK_RUN_CELL)
    for tag in plan.pending_queues(store, sweep_id):
        queue = queue_for(tag)
        room = max(0, max_queued - queue_depth(client, queue))
        chosen = plan.pending_specs(store, sweep_id, limit=min(room, batch), queue=tag) if room else []
        if not chosen or not leading():
            continue
        ids = [spec["cell_id"] for spec, _ in chosen]
        # queued set first: a cell is never in the queue without being in it (the reconciler
        # reads "not in the set" as lost); a failed publish leaves the cells pending for next round
        client.sadd(keys.queued(sweep_id), *ids)
        publisher.publish(
            queue, [TaskCall(**spec_message(spec, after_attempt=after)) for spec, after in chosen]
        )
        plan.mark_enqueued(store, ids)
        report.enqueued += len(chosen)
        report.per_queue[queue] = len(chosen)
        report.more = report.more or (len(chosen) == batch and room > batch)
    report.pending = plan.pending_count(store, sweep_id)
    report.more = report.more and report.pending > 0
    if report.enqueued:
        log.info("dispatch_round", sweep_id=sweep_id, enqueued=report.enqueued, pending=report.pending)
    return report


def reconcile(
    sweep_id: str, *, store: ResultStore, client: redis.Redis, suspects: set[str] | None = None
) -> list[str]:
    """Re-plan dispatched cells that nobody runs and whose message is gone.

    Candidates (from the store): dispatched, open, not cancelled, no live lease. One is lost when it
    is not in ``cab:queued`` (its delivery ended without a result, or Redis forgot it) or its queue is
    empty (the message went without the set knowing: a worker that died before it could say so).
    With ``suspects`` (the dispatcher's memory between rounds), a cell is re-planned only when it was
    lost in the previous round too, so a message between the queue and its worker's lease is not
    taken for lost; a duplicate is harmless anyway (the store's lease and fence).
    """
    candidates = plan.unfinished_enqueued(store, sweep_id)
    if not candidates:
        if suspects is not None:
            suspects.clear()
        return []
    pipe = client.pipeline(transaction=False)
    for cell_id, _ in candidates:
        pipe.sismember(keys.queued(sweep_id), cell_id)
    queued = pipe.execute()
    depth = {tag: queue_depth(client, queue_for(tag)) for tag in {t for _, t in candidates}}
    lost = [c for (c, tag), q in zip(candidates, queued, strict=True) if not q or depth[tag] == 0]
    if suspects is not None:
        confirmed = [c for c in lost if c in suspects]
        suspects.clear()
        suspects.update(c for c in lost if c not in confirmed)
        lost = confirmed
    if lost:
        plan.reset(store, lost)
        client.srem(keys.queued(sweep_id), *lost)
        log.warning("reconcile_replanned", sweep_id=sweep_id, cells=len(lost))
    return lost


class Dispatcher:
    """The dispatch loop: wakes on ``cab:wake`` or every ``interval_s``; reconciles periodically.

    The sweeps it visits are the store's active ones, so a Redis that restarts empty loses none.
    One dispatcher leads at a time (``cab:dispatcher``, a Redis lease renewed by its own thread every
    third of ``lease_s``, so a long round keeps it); a standby takes over when the leader stops or
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
        max_queued: int = 1000,
        batch: int = 2000,
        interval_s: float = 1.0,
        reconcile_every_s: float = 30.0,
        lease_s: float = 15.0,
    ) -> None:
        self.store, self.app, self.client = store, app, client
        self.max_queued, self.batch, self.interval_s = max_queued, batch, interval_s
        self.reconcile_every_s, self.lease_s = reconcile_every_s, lease_s
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
                self._acquire_or_renew(keys=[DISPATCHER_LEASE], args=[self.me, int(self.lease_s * 1000)])
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
                value = (self.client.get(EPOCH) or b"").decode()
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
                max_queued=self.max_queued,
                batch=self.batch,
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
                        due = time.monotonic() - last_reconcile >= self.reconcile_every_s
                        more = any(r.more for r in self.round(reconcile_now=due))
                        last_reconcile = time.monotonic() if due else last_reconcile
                except Exception as e:  # noqa: BLE001 - the loop must survive broker/store restarts
                    log.warning("dispatcher_round_failed", error=f"{type(e).__name__}: {e}"[:300])
                if more:
                    continue  # a full batch went out and cells remain: no pause between rounds
                self._wake.wait(self.interval_s)
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
        while not stop.wait(self.lease_s / 3):
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
