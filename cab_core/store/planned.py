"""The distributed sweep's work list: planned cells, what is dispatched, what is still pending.

``cab submit`` writes the sweep and all its planned cells in one transaction (nothing partial);
the dispatcher, next to the broker, reads pending cells in ``seq`` order and marks them enqueued;
the reconciler and ``cab retry`` put cells back to pending.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, insert, select, update

from cab_core.schema import CellSpec, SweepSpec
from cab_core.store import rows
from cab_core.store.result_store import ResultStore, _upsert
from cab_core.store.tables import cells, planned, sweeps

CHUNK = 2000
"""Rows per INSERT statement when recording a large sweep."""


def record_plan(store: ResultStore, spec: SweepSpec, cell_specs: list[CellSpec]) -> None:
    """Record the sweep and every planned cell atomically; a resubmission adds only new cells."""
    now = datetime.now(UTC)
    with store._write(f"record plan {spec.sweep_id}") as conn:
        _upsert(
            conn,
            sweeps,
            {"sweep_id": spec.sweep_id, "spec": rows.dump(spec), "created_at": now},
            keys=("sweep_id",),
            changing=("spec",),
        )
        known = set(
            conn.execute(select(planned.c.cell_id).where(planned.c.sweep_id == spec.sweep_id)).scalars()
        )
        values = [
            {
                "cell_id": c.cell_id,
                "sweep_id": c.sweep_id,
                "seq": i,
                "queue": c.queue_tag,
                "tui": c.tui,
                "model": c.model,
                "spec": c.model_dump(mode="json"),
                "enqueued_at": None,
            }
            for i, c in enumerate(cell_specs)
            if c.cell_id not in known
        ]
        for start in range(0, len(values), CHUNK):
            conn.execute(insert(planned), values[start : start + CHUNK])


def pending_specs(
    store: ResultStore, sweep_id: str, *, limit: int, queue: str | None = None
) -> list[tuple[dict[str, Any], int]]:
    """Planned cells not yet dispatched, in expansion order: (stored CellSpec JSON, after_attempt).

    The dispatcher publishes the stored JSON as it is (validated when the plan was recorded, and again
    by the worker), so validating every spec here would only cost time on the fan-out's hot path.
    """
    query = select(planned.c.spec, planned.c.after_attempt).where(
        planned.c.sweep_id == sweep_id, planned.c.enqueued_at.is_(None)
    )
    if queue is not None:
        query = query.where(planned.c.queue == queue)
    query = query.order_by(planned.c.seq).limit(limit)
    with store._read(f"read plan {sweep_id}") as conn:
        return [(r.spec, r.after_attempt) for r in conn.execute(query)]


def pending(
    store: ResultStore, sweep_id: str, *, limit: int, queue: str | None = None
) -> list[tuple[CellSpec, int]]:
    """Like :func:`pending_specs`, with each spec validated into a :class:`CellSpec`."""
    found = pending_specs(store, sweep_id, limit=limit, queue=queue)
    return [(CellSpec.model_validate(spec), after) for spec, after in found]


def mark_enqueued(store: ResultStore, cell_ids: Iterable[str]) -> None:
    ids = list(cell_ids)
    if not ids:
        return
    with store._write("mark enqueued") as conn:
        for start in range(0, len(ids), CHUNK):
            conn.execute(
                update(planned)
                .where(planned.c.cell_id.in_(ids[start : start + CHUNK]))
                .values(enqueued_at=datetime.now(UTC))
            )


def reset(
    store: ResultStore, cell_ids: Iterable[str], *, after_attempts: dict[str, int] | None = None
) -> int:
    """Put cells back to pending (retry, reconcile); returns how many were reset.

    ``after_attempts`` (retry of final failures) makes a final result count only when its attempt is
    above the given one, so the rerun happens once even if its message is delivered twice.
    """
    ids = list(cell_ids)
    done = 0
    with store._write("reset planned cells") as conn:
        if after_attempts:
            for cell_id in ids:
                done += conn.execute(
                    update(planned)
                    .where(planned.c.cell_id == cell_id)
                    .values(enqueued_at=None, after_attempt=after_attempts.get(cell_id, 0))
                ).rowcount
            return done
        for start in range(0, len(ids), CHUNK):
            done += conn.execute(
                update(planned)
                .where(planned.c.cell_id.in_(ids[start : start + CHUNK]))
                .values(enqueued_at=None)
            ).rowcount
    return done


def open_count(store: ResultStore, sweep_id: str) -> int:
    """Planned cells without a final result (a sweep with none left is finished)."""
    final = select(cells.c.cell_id).where(
        cells.c.sweep_id == sweep_id,
        cells.c.final.is_(True),
        cells.c.attempt > planned.c.after_attempt,
        cells.c.cell_id == planned.c.cell_id,
    )
    query = select(func.count()).select_from(planned).where(planned.c.sweep_id == sweep_id, ~final.exists())
    with store._read(f"count open {sweep_id}") as conn:
        return int(conn.execute(query).scalar() or 0)


def planned_cells(store: ResultStore, sweep_id: str) -> dict[str, tuple[str, str, bool]]:
    """cell_id -> (tui, model, enqueued) for every planned cell of the sweep."""
    query = select(planned.c.cell_id, planned.c.tui, planned.c.model, planned.c.enqueued_at).where(
        planned.c.sweep_id == sweep_id
    )
    with store._read(f"read plan {sweep_id}") as conn:
        return {r.cell_id: (r.tui, r.model, r.enqueued_at is not None) for r in conn.execute(query)}


def pending_count(store: ResultStore, sweep_id: str) -> int:
    query = (
        select(func.count())
        .select_from(planned)
        .where(and_(planned.c.sweep_id == sweep_id, planned.c.enqueued_at.is_(None)))
    )
    with store._read(f"count plan {sweep_id}") as conn:
        return int(conn.execute(query).scalar() or 0)


def pending_queues(store: ResultStore, sweep_id: str) -> list[str]:
    """Capability tags that still have undispatched cells."""
    query = select(planned.c.queue).where(planned.c.sweep_id == sweep_id, planned.c.enqueued_at.is_(None))
    with store._read(f"read plan {sweep_id}") as conn:
        return sorted(set(conn.execute(query.distinct()).scalars()))


def unfinished_enqueued(store: ResultStore, sweep_id: str) -> list[str]:
    """Dispatched cells with no stored result at all (reconciler candidates)."""
    stored = select(cells.c.cell_id).where(cells.c.sweep_id == sweep_id).distinct()
    query = select(planned.c.cell_id).where(
        planned.c.sweep_id == sweep_id, planned.c.enqueued_at.is_not(None), planned.c.cell_id.not_in(stored)
    )
    with store._read(f"read plan {sweep_id}") as conn:
        return list(conn.execute(query).scalars())


def latest_summary(store: ResultStore, sweep_id: str) -> dict[str, tuple[str, bool, int | None]]:
    """cell_id -> (failure_class, final, pass) of each cell's latest attempt: a light status read."""
    top = (
        select(cells.c.cell_id, func.max(cells.c.attempt).label("attempt"))
        .where(cells.c.sweep_id == sweep_id)
        .group_by(cells.c.cell_id)
        .subquery("latest")
    )
    query = select(cells.c.cell_id, cells.c.failure_class, cells.c.final, cells.c.passed).select_from(
        cells.join(top, and_(cells.c.cell_id == top.c.cell_id, cells.c.attempt == top.c.attempt))
    )
    with store._read(f"summarise {sweep_id}") as conn:
        return {r.cell_id: (r.failure_class, r.final, r.passed) for r in conn.execute(query)}


def first_and_last_result_at(store: ResultStore, sweep_id: str) -> tuple[datetime | None, datetime | None]:
    query = select(func.min(cells.c.updated_at), func.max(cells.c.updated_at)).where(
        cells.c.sweep_id == sweep_id
    )
    with store._read(f"summarise {sweep_id}") as conn:
        first, last = conn.execute(query).one()
    return first, last
