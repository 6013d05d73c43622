"""`cab status`: where a distributed sweep stands, from the store (the record) and Redis (liveness).

done       latest result is final (passed or not); by failure class under ``failed``
running    a live lease in the store
queued     everything else that still needs a result: waiting for dispatch, in a queue, or waiting
           out the backoff before an automatic retry (``retrying``: its last try was an infra failure)
cancelled  cancelled before it got a final result

A sweep is finished when every planned cell is done or cancelled and nothing runs. A status never
promises progress that is not happening: when no cell runs and no result was stored for
``stall_after_s`` (``CAB_STALL_AFTER_S``), it says the sweep is stalled, for how long, and why (no
dispatcher, no worker on a queue, a Redis that restarted empty), instead of an ETA. It also names every
task whose latest results ran more than one version of it (``task_mix``; ``cab results`` too).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import redis

from cab_core import keys
from cab_core.schema import CellResult
from cab_core.store import ResultStore
from cab_core.store import planned as plan
from cab_scheduler.celery_app import queue_for


@dataclass
class GroupStatus:
    tui: str
    model: str
    planned: int = 0
    done: int = 0
    passed: int = 0
    running: int = 0
    queued: int = 0
    retrying: int = 0
    cancelled: int = 0
    failed: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskMix:
    """A task whose latest results in one sweep ran more than one version of it (content hash)."""

    task_id: str
    versions: tuple[tuple[str, int], ...]
    """(task hash, "" when not recorded; how many cells' latest result ran it), most cells first."""


def task_mix(versions: Mapping[str, Mapping[str, int]]) -> list[TaskMix]:
    """The tasks of ``versions`` (task_id -> {task hash: cells}) that have more than one version."""
    return [
        TaskMix(task_id, tuple(sorted(by_hash.items(), key=lambda kv: (-kv[1], kv[0]))))
        for task_id, by_hash in sorted(versions.items())
        if len(by_hash) > 1
    ]


def results_task_mix(results: Iterable[CellResult]) -> list[TaskMix]:
    """:func:`task_mix` of a results table (the latest attempt of each cell)."""
    versions: dict[str, dict[str, int]] = {}
    for r in results:
        by_hash = versions.setdefault(r.identity.task_id, {})
        by_hash[r.identity.task_hash] = by_hash.get(r.identity.task_hash, 0) + 1
    return task_mix(versions)


@dataclass
class SweepStatus:
    sweep_id: str
    groups: list[GroupStatus]
    cancelled: bool
    eta_s: float | None
    budget_spent: str | None = None
    """Set when the sweep's budget stopped it: queued cells will not start."""
    gave_up: dict[int, int] = field(default_factory=dict)
    """Cells that ended as infra failures, by how many tries they got."""
    next_retry_s: float | None = None
    stalled_s: float | None = None
    """Seconds without progress while cells remain; None when moving (or finished)."""
    why: list[str] = field(default_factory=list)
    """Why it is stalled, one line each."""
    task_mix: list[TaskMix] = field(default_factory=list)
    """Tasks whose latest results come from more than one version of the task."""

    @property
    def total(self) -> GroupStatus:
        t = GroupStatus("*", "*")
        for g in self.groups:
            for name in ("planned", "done", "passed", "running", "queued", "retrying", "cancelled"):
                setattr(t, name, getattr(t, name) + getattr(g, name))
            for k, v in g.failed.items():
                t.failed[k] = t.failed.get(k, 0) + v
        return t

    @property
    def finished(self) -> bool:
        t = self.total
        if t.running:
            return False
        return t.done + t.cancelled == t.planned or bool(self.budget_spent)


def sweep_status(
    store: ResultStore, client: redis.Redis, sweep_id: str, *, stall_after_s: float
) -> SweepStatus | None:
    """None when the sweep was never submitted. Redis is only asked why a sweep is stalled."""
    state = plan.sweep_state(store, sweep_id)
    cells = plan.cell_states(store, sweep_id)
    if state is None or not cells:
        return None
    latest = plan.latest_summary(store, sweep_id)
    groups: dict[tuple[str, str], GroupStatus] = {}
    gave_up: dict[int, int] = {}
    waits: list[float] = []
    for cell_id, c in cells.items():
        g = groups.setdefault((c.tui, c.model), GroupStatus(c.tui, c.model))
        g.planned += 1
        summary = latest.get(cell_id)
        if c.final and summary is not None:
            g.done += 1
            g.passed += int(summary[2] or 0)
            if summary[0] != "none":
                g.failed[summary[0]] = g.failed.get(summary[0], 0) + 1
            if summary[0] == "infra":
                gave_up[c.tries] = gave_up.get(c.tries, 0) + 1
        elif c.running:
            g.running += 1
        elif c.cancelled:
            g.cancelled += 1
        else:
            g.queued += 1
            if summary is not None and summary[0] == "infra":
                g.retrying += 1
            if c.waiting_s is not None:
                waits.append(c.waiting_s)
    status = SweepStatus(
        sweep_id,
        sorted(groups.values(), key=lambda g: (g.tui, g.model)),
        state.cancelled,
        None,
        state.stopped,
        gave_up,
        min(waits) if waits else None,
        task_mix=task_mix(plan.task_versions(store, sweep_id)),
    )
    if status.finished:
        status.eta_s = 0.0
        return status
    t = status.total
    first, last = plan.first_and_last_result_at(store, sweep_id)
    since = max(last, state.created_at) if last else state.created_at
    idle_s = (datetime.now(UTC) - since).total_seconds() if since else 0.0
    waiting_only = t.queued > 0 and len(waits) == t.queued
    if t.running == 0 and idle_s >= stall_after_s and not waiting_only:
        status.stalled_s = idle_s
        status.why = stall_reasons(client, store, sweep_id)
    else:
        status.eta_s = _eta(status, first, last)
    return status


def stall_reasons(client: redis.Redis, store: ResultStore, sweep_id: str) -> list[str]:
    """What keeps a sweep's queued cells from running, as far as Redis can tell."""
    try:
        dispatcher = client.exists(keys.DISPATCHER)
        epoch = client.get(keys.EPOCH)
        workers = [json.loads(v) for v in client.mget(list(client.scan_iter(keys.WORKERS_MATCH))) if v] or []
    except redis.RedisError as e:
        return [f"the broker (Redis) is unreachable: {type(e).__name__}: {e}"[:200]]
    why = []
    if not dispatcher:
        why.append("no dispatcher is running: start `cab dispatcher` (or `cab worker --dispatcher`)")
    if epoch is not None:
        text = epoch.decode() if isinstance(epoch, bytes) else str(epoch)
        since = time.time() - float(text.split()[-1])
        if since < 900:
            why.append(f"Redis restarted empty {since:.0f} s ago; the dispatcher re-plans what it lost")
    consumed = {q for w in workers for q in w.get("queues", [])}
    for tag in plan.open_queues(store, sweep_id):
        if queue_for(tag) not in consumed:
            why.append(f"no worker takes queue {queue_for(tag)}: start `cab worker --tags {tag}`")
    if not workers:
        why.append("no worker is alive")
    return why or ["queued cells are not being taken: see the workers' logs (`cab worker` output)"]


def _eta(status: SweepStatus, first: datetime | None, last: datetime | None) -> float | None:
    t = status.total
    remaining = t.planned - t.done - t.cancelled
    if remaining == 0 or t.done < 2 or first is None or last is None or last <= first:
        return None
    rate = (t.done - 1) / (last - first).total_seconds()
    return remaining / rate if rate > 0 else None
