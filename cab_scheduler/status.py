"""`cab status`: where a distributed sweep stands, from the store (the record) and Redis (liveness).

done      latest result is final (passed or not)
failed    final with a failure class other than none, by class; infra failures that will be
          retried are counted separately as ``retryable``
running   a live lease exists
queued    everything else that is planned (dispatched or waiting for dispatch)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import redis

from cab_core import keys
from cab_core.store import ResultStore
from cab_core.store import planned as plan


@dataclass
class GroupStatus:
    tui: str
    model: str
    planned: int = 0
    done: int = 0
    passed: int = 0
    running: int = 0
    queued: int = 0
    retryable: int = 0
    failed: dict[str, int] = field(default_factory=dict)


@dataclass
class SweepStatus:
    sweep_id: str
    groups: list[GroupStatus]
    cancelled: bool
    eta_s: float | None
    budget_spent: str | None = None
    """Set when the sweep's budget stopped it: queued cells will not start."""

    @property
    def total(self) -> GroupStatus:
        t = GroupStatus("*", "*")
        for g in self.groups:
            for name in ("planned", "done", "passed", "running", "queued", "retryable"):
                setattr(t, name, getattr(t, name) + getattr(g, name))
            for k, v in g.failed.items():
                t.failed[k] = t.failed.get(k, 0) + v
        return t

    @property
    def finished(self) -> bool:
        t = self.total
        return t.done == t.planned or ((self.cancelled or bool(self.budget_spent)) and t.running == 0)


def sweep_status(store: ResultStore, client: redis.Redis, sweep_id: str) -> SweepStatus | None:
    """None when the sweep was never submitted."""
    cells = plan.planned_cells(store, sweep_id)
    if not cells:
        return None
    latest = plan.latest_summary(store, sweep_id)
    open_ids = [c for c in cells if not (c in latest and latest[c][1])]
    leased: set[str] = set()
    if open_ids:
        values = client.mget([keys.lease(c) for c in open_ids])
        leased = {c for c, v in zip(open_ids, values, strict=True) if v is not None}
    groups: dict[tuple[str, str], GroupStatus] = {}
    for cell_id, (tui, model, _enqueued) in cells.items():
        g = groups.setdefault((tui, model), GroupStatus(tui, model))
        g.planned += 1
        summary = latest.get(cell_id)
        if summary and summary[1]:
            g.done += 1
            g.passed += int(summary[2] or 0)
            if summary[0] != "none":
                g.failed[summary[0]] = g.failed.get(summary[0], 0) + 1
        elif cell_id in leased:
            g.running += 1
        else:
            g.queued += 1
            g.retryable += int(summary is not None)
    status = SweepStatus(
        sweep_id,
        sorted(groups.values(), key=lambda g: (g.tui, g.model)),
        bool(client.exists(keys.cancel(sweep_id))),
        None,
        (client.get(keys.budget(sweep_id)) or b"").decode() or None,
    )
    status.eta_s = _eta(store, sweep_id, status)
    return status


def _eta(store: ResultStore, sweep_id: str, status: SweepStatus) -> float | None:
    t = status.total
    remaining = t.planned - t.done
    if remaining == 0 or t.done < 2:
        return 0.0 if remaining == 0 else None
    first, last = plan.first_and_last_result_at(store, sweep_id)
    if first is None or last is None or last <= first:
        return None
    rate = (t.done - 1) / (last - first).total_seconds()
    return remaining / rate if rate > 0 else None
