"""One round of fan-out for one sweep: planned cells -> per-capability queues, and the reconciler.

``dispatch_once`` enqueues as many of a sweep's dispatchable cells as its queues have room for (a
queue never holds more than ``max_queued`` cells, so a 100,000-cell sweep never floods Redis and
hosts that join late still get work). Messages are published in batches
(:mod:`cab_scheduler.publish`): the same messages ``send_task`` would store, one Redis round trip per
queue per round.

``reconcile`` re-plans dispatched cells that nobody runs and whose message is gone (lost with a
Redis that kept nothing, acked by a delivery that ended early, or taken by a worker that died). The
store is the record, so everything in Redis can be rebuilt from it. The loop that calls both is
:class:`cab_scheduler.dispatch.Dispatcher`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis
import structlog
from celery import Celery

from cab_core import keys
from cab_core.budget import exhausted
from cab_core.schema import CellSpec
from cab_core.settings import DispatcherSettings
from cab_core.store import ResultStore
from cab_core.store import planned as plan
from cab_scheduler import broker_internals
from cab_scheduler.celery_app import TASK_RUN_CELL, queue_for
from cab_scheduler.publish import BatchPublisher, TaskCall

log = structlog.get_logger(__name__)


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
    pipe = client.pipeline(transaction=False)
    for name in broker_internals.queue_lists(queue):
        pipe.llen(name)
    return sum(int(n) for n in pipe.execute())


def dispatch_once(
    sweep_id: str,
    *,
    store: ResultStore,
    app: Celery,
    client: redis.Redis,
    settings: DispatcherSettings,
    publisher: BatchPublisher | None = None,
    leading: Callable[[], bool] = lambda: True,
) -> DispatchReport:
    """Enqueue as many dispatchable cells as the queues have room for (``settings.max_queued`` in
    each), at most ``settings.batch`` per queue.

    ``leading`` is asked before each publish: a dispatcher that lost its lease mid-round publishes
    nothing more (the new leader does).
    """
    report = DispatchReport(sweep_id)
    state = plan.sweep_state(store, sweep_id)
    if state is None or state.stopped:
        report.budget_spent = state.stopped if state else None
        return report
    spec = store.sweep(sweep_id)
    report.budget_spent = exhausted(spec.policy.budget if spec else None, store.sweep_spend(sweep_id))
    if report.budget_spent:
        log.warning("sweep_budget_spent", sweep_id=sweep_id, reason=report.budget_spent)
        return report
    publisher = publisher or BatchPublisher(app, TASK_RUN_CELL)
    for tag in plan.pending_queues(store, sweep_id):
        queue = queue_for(tag)
        room = max(0, settings.max_queued - queue_depth(client, queue))
        limit = min(room, settings.batch)
        chosen = plan.pending_specs(store, sweep_id, limit=limit, queue=tag) if room else []
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
        report.more = report.more or (len(chosen) == settings.batch and room > settings.batch)
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
