"""Read-only views of a sweep's progress for ``cab status`` and the dispatcher: what each planned cell
is doing, what is still open, and a light summary of the latest results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select

from cab_core.store.leases import final_above_after, live_lease, store_now
from cab_core.store.result_store import ResultStore
from cab_core.store.statements import latest_attempts
from cab_core.store.tables import cells, planned


@dataclass(frozen=True)
class CellState:
    """One planned cell's dispatch, lease and retry state."""

    tui: str
    model: str
    enqueued: bool
    running: bool
    cancelled: bool
    final: bool
    """It has a final result above ``after_attempt``."""
    tries: int
    waiting_s: float | None
    """Seconds until its backoff ends (a retry waiting), else None."""


def open_count(store: ResultStore, sweep_id: str) -> int:
    """Planned cells that still need a result: no final one above ``after_attempt``, not cancelled."""
    query = (
        select(func.count())
        .select_from(planned)
        .where(planned.c.sweep_id == sweep_id, planned.c.cancelled.is_(False), ~final_above_after())
    )
    with store.reading(f"count open {sweep_id}") as conn:
        return int(conn.execute(query).scalar() or 0)


def open_queues(store: ResultStore, sweep_id: str) -> list[str]:
    """Capability tags of cells that still need a result."""
    query = select(planned.c.queue).where(
        planned.c.sweep_id == sweep_id, planned.c.cancelled.is_(False), ~final_above_after()
    )
    with store.reading(f"read plan {sweep_id}") as conn:
        return sorted(set(conn.execute(query.distinct()).scalars()))


def cell_states(store: ResultStore, sweep_id: str) -> dict[str, CellState]:
    """Every planned cell of the sweep with its dispatch, lease and retry state (the store's clock)."""
    with store.reading(f"read plan {sweep_id}") as conn:
        now = store_now(conn)
        query = select(
            planned.c.cell_id,
            planned.c.tui,
            planned.c.model,
            planned.c.enqueued_at,
            live_lease(now).label("running"),
            planned.c.cancelled,
            final_above_after().label("final"),
            planned.c.tries,
            (planned.c.not_before - now).label("waiting"),
        ).where(planned.c.sweep_id == sweep_id)
        return {
            r.cell_id: CellState(
                r.tui,
                r.model,
                r.enqueued_at is not None,
                bool(r.running),
                bool(r.cancelled),
                bool(r.final),
                int(r.tries),
                float(r.waiting) if r.waiting is not None and r.waiting > 0 else None,
            )
            for r in conn.execute(query)
        }


def planned_cells(store: ResultStore, sweep_id: str) -> dict[str, tuple[str, str, bool]]:
    """cell_id -> (tui, model, enqueued) for every planned cell of the sweep."""
    query = select(planned.c.cell_id, planned.c.tui, planned.c.model, planned.c.enqueued_at).where(
        planned.c.sweep_id == sweep_id
    )
    with store.reading(f"read plan {sweep_id}") as conn:
        return {r.cell_id: (r.tui, r.model, r.enqueued_at is not None) for r in conn.execute(query)}


def latest_summary(store: ResultStore, sweep_id: str) -> dict[str, tuple[str, bool, int | None]]:
    """cell_id -> (failure_class, final, pass) of each cell's latest attempt: a light status read."""
    query = select(cells.c.cell_id, cells.c.failure_class, cells.c.final, cells.c.passed).select_from(
        latest_attempts(sweep_id)
    )
    with store.reading(f"summarise {sweep_id}") as conn:
        return {r.cell_id: (r.failure_class, r.final, r.passed) for r in conn.execute(query)}


def task_versions(store: ResultStore, sweep_id: str) -> dict[str, dict[str, int]]:
    """task_id -> {task hash ("" when not recorded): cells} over each cell's latest attempt: which
    task versions the sweep's results table holds (``cab status`` names a task with two)."""
    c = cells.c
    query = (
        select(c.task_id, c.task_hash, func.count())
        .select_from(latest_attempts(sweep_id))
        .group_by(c.task_id, c.task_hash)
    )
    out: dict[str, dict[str, int]] = {}
    with store.reading(f"summarise {sweep_id}") as conn:
        for task_id, task_hash, n in conn.execute(query):
            versions = out.setdefault(task_id, {})
            versions[task_hash or ""] = versions.get(task_hash or "", 0) + int(n)
    return out


def first_and_last_result_at(store: ResultStore, sweep_id: str) -> tuple[datetime | None, datetime | None]:
    """When the sweep's first and latest results were written (None, None before any)."""
    query = select(func.min(cells.c.updated_at), func.max(cells.c.updated_at)).where(
        cells.c.sweep_id == sweep_id
    )
    with store.reading(f"summarise {sweep_id}") as conn:
        first, last = conn.execute(query).one()
    return _aware(first), _aware(last)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes for what was written in UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value
