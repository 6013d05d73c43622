"""The dispatcher's side of the plan: pending cells in ``seq`` order, marked enqueued once published,
and put back to pending by the reconciler when their message was lost."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from cab_core.schema import CellSpec
from cab_core.store.leases import final_above_after, live_lease, store_now
from cab_core.store.planned.recording import CHUNK
from cab_core.store.result_store import ResultStore
from cab_core.store.tables import planned


def _dispatchable(conn: Connection, sweep_id: str) -> ColumnElement[bool]:
    """Planned cells the dispatcher may send now: not dispatched, not cancelled, past their backoff."""
    return and_(
        planned.c.sweep_id == sweep_id,
        planned.c.enqueued_at.is_(None),
        planned.c.cancelled.is_(False),
        or_(planned.c.not_before.is_(None), planned.c.not_before <= store_now(conn)),
    )


def pending_specs(
    store: ResultStore, sweep_id: str, *, limit: int, queue: str | None = None
) -> list[tuple[dict[str, Any], int]]:
    """Cells the dispatcher may send now, in expansion order: (stored CellSpec JSON, after_attempt).

    The dispatcher publishes the stored JSON as it is (validated when the plan was recorded, and again
    by the worker), so validating every spec here would only cost time on the fan-out's hot path.
    """
    with store.reading(f"read plan {sweep_id}") as conn:
        query = select(planned.c.spec, planned.c.after_attempt).where(_dispatchable(conn, sweep_id))
        if queue is not None:
            query = query.where(planned.c.queue == queue)
        query = query.order_by(planned.c.seq).limit(limit)
        return [(r.spec, r.after_attempt) for r in conn.execute(query)]


def pending(
    store: ResultStore, sweep_id: str, *, limit: int, queue: str | None = None
) -> list[tuple[CellSpec, int]]:
    """Like :func:`pending_specs`, with each spec validated into a :class:`CellSpec`."""
    found = pending_specs(store, sweep_id, limit=limit, queue=queue)
    return [(CellSpec.model_validate(spec), after) for spec, after in found]


def planned_spec(store: ResultStore, cell_id: str) -> dict[str, Any] | None:
    """The plan's spec of one cell (stored CellSpec JSON), or None when it is not planned."""
    with store.reading(f"read plan of {cell_id}") as conn:
        spec: dict[str, Any] | None = conn.execute(
            select(planned.c.spec).where(planned.c.cell_id == cell_id)
        ).scalar_one_or_none()
        return spec


def mark_enqueued(store: ResultStore, cell_ids: Iterable[str]) -> None:
    """The dispatcher published these cells: they are no longer pending."""
    ids = list(cell_ids)
    if not ids:
        return
    with store.transaction("mark enqueued") as conn:
        for start in range(0, len(ids), CHUNK):
            conn.execute(
                update(planned)
                .where(planned.c.cell_id.in_(ids[start : start + CHUNK]), planned.c.enqueued_at.is_(None))
                .values(enqueued_at=datetime.now(UTC))
            )


def reset(store: ResultStore, cell_ids: Iterable[str]) -> int:
    """Put dispatched cells that are not running back to pending (the reconciler); how many were."""
    ids = list(cell_ids)
    done = 0
    with store.transaction("reset planned cells") as conn:
        now = store_now(conn)
        for start in range(0, len(ids), CHUNK):
            done += conn.execute(
                update(planned)
                .where(planned.c.cell_id.in_(ids[start : start + CHUNK]), ~live_lease(now))
                .values(enqueued_at=None)
            ).rowcount
    return done


def pending_count(store: ResultStore, sweep_id: str) -> int:
    """Cells waiting for dispatch, backoffs included (the sweep is not done while any wait)."""
    query = (
        select(func.count())
        .select_from(planned)
        .where(
            planned.c.sweep_id == sweep_id,
            planned.c.enqueued_at.is_(None),
            planned.c.cancelled.is_(False),
        )
    )
    with store.reading(f"count plan {sweep_id}") as conn:
        return int(conn.execute(query).scalar() or 0)


def pending_queues(store: ResultStore, sweep_id: str) -> list[str]:
    """Capability tags that have cells the dispatcher may send now."""
    with store.reading(f"read plan {sweep_id}") as conn:
        query = select(planned.c.queue).where(_dispatchable(conn, sweep_id))
        return sorted(set(conn.execute(query.distinct()).scalars()))


def unfinished_enqueued(store: ResultStore, sweep_id: str) -> list[tuple[str, str]]:
    """Reconciler candidates, (cell_id, queue tag): dispatched, not cancelled, no final result above
    ``after_attempt`` (an earlier final result of a retried cell does not hide it), and nobody holds
    a live lease on it."""
    with store.reading(f"read plan {sweep_id}") as conn:
        query = select(planned.c.cell_id, planned.c.queue).where(
            planned.c.sweep_id == sweep_id,
            planned.c.enqueued_at.is_not(None),
            planned.c.cancelled.is_(False),
            ~live_lease(store_now(conn)),
            ~final_above_after(),
        )
        return [(r.cell_id, r.queue) for r in conn.execute(query)]
