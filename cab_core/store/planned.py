"""The distributed sweep's work list: planned cells, what is dispatched, what is still pending.

``cab submit`` writes the sweep and all its planned cells in one transaction (nothing partial);
the dispatcher, next to the broker, reads pending cells in ``seq`` order and marks them enqueued;
the reconciler and ``cab retry`` put cells back to pending.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, or_, select, update

from cab_core.errors import SweepError
from cab_core.schema import CellSpec, SweepSpec
from cab_core.store import rows
from cab_core.store.leases import final_above_after, live_lease, store_now
from cab_core.store.result_store import ResultStore
from cab_core.store.tables import cells, checkpoints, exchanges, model_calls, planned, spans, sweeps

CHUNK = 2000
"""Rows per INSERT statement when recording a large sweep."""


@dataclass(frozen=True)
class PlanDiff:
    """How a submission differs from what is already planned under the same sweep id."""

    new_sweep: bool
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    """Cells planned before whose spec differs now (a task or timeout changed)."""
    spec_changed: bool = False

    @property
    def same(self) -> bool:
        return not (self.new_sweep or self.added or self.removed or self.changed or self.spec_changed)

    def summary(self) -> str:
        parts = [f"+{len(self.added)} cells"] if self.added else []
        parts += [f"-{len(self.removed)} cells (their results are dropped)"] if self.removed else []
        parts += [f"{len(self.changed)} changed cells rerun (e.g. {self.changed[0]})"] if self.changed else []
        if self.spec_changed and not parts:
            parts = ["the sweep spec changed (same cells)"]
        return ", ".join(parts) or "no change"


def record_plan(
    store: ResultStore, spec: SweepSpec, cell_specs: list[CellSpec], *, replace: bool = False
) -> PlanDiff:
    """Record the sweep and every planned cell atomically.

    The same spec again is a no-op (a retried submission). A different spec under the same sweep id
    is refused with :class:`SweepError` unless ``replace``: then, in the same transaction, removed
    cells and their results go, changed cells are re-planned to run again (their running holder loses
    its fence and stops), new cells are added, and the sweep is active again (not cancelled).
    """
    dumped = rows.dump(spec)
    wanted = {c.cell_id: (i, c) for i, c in enumerate(cell_specs)}
    with store._write(f"record plan {spec.sweep_id}") as conn:
        old_spec = conn.execute(
            select(sweeps.c.spec).where(sweeps.c.sweep_id == spec.sweep_id)
        ).scalar_one_or_none()
        known = {
            r.cell_id: r.spec
            for r in conn.execute(
                select(planned.c.cell_id, planned.c.spec).where(planned.c.sweep_id == spec.sweep_id)
            )
        }
        new = [cid for cid in wanted if cid not in known]
        diff = PlanDiff(
            new_sweep=old_spec is None,
            added=new if old_spec is not None else [],
            removed=sorted(set(known) - set(wanted)),
            changed=sorted(
                cid
                for cid, (_, c) in wanted.items()
                if cid in known and known[cid] != c.model_dump(mode="json")
            ),
            spec_changed=old_spec is not None and old_spec != dumped,
        )
        if not diff.new_sweep and not diff.same and not replace:
            raise SweepError(
                f"sweep {spec.sweep_id!r} was submitted before with a different spec ({diff.summary()}); "
                "give it a new sweep_id, or resubmit with --replace to stop what changed and re-plan"
            )
        if diff.new_sweep:
            conn.execute(
                insert(sweeps).values(
                    sweep_id=spec.sweep_id, spec=dumped, created_at=datetime.now(UTC), active=True
                )
            )
        elif replace:
            conn.execute(
                update(sweeps)
                .where(sweeps.c.sweep_id == spec.sweep_id)
                .values(spec=dumped, active=True, cancelled_at=None, stopped=None)
            )
            _replace(conn, spec.sweep_id, diff, wanted)
        values = [
            {
                "cell_id": cid,
                "sweep_id": c.sweep_id,
                "seq": i,
                "queue": c.queue_tag,
                "tui": c.tui,
                "model": c.model,
                "spec": c.model_dump(mode="json"),
                "enqueued_at": None,
            }
            for cid, (i, c) in wanted.items()
            if cid in new
        ]
        for start in range(0, len(values), CHUNK):
            conn.execute(insert(planned), values[start : start + CHUNK])
    return diff


def _replace(
    conn: Connection, sweep_id: str, diff: PlanDiff, wanted: dict[str, tuple[int, CellSpec]]
) -> None:
    for start in range(0, len(diff.removed), CHUNK):
        ids = diff.removed[start : start + CHUNK]
        for table in (spans, model_calls, exchanges, cells, checkpoints, planned):
            conn.execute(delete(table).where(table.c.cell_id.in_(ids)))
    latest = dict(
        conn.execute(
            select(cells.c.cell_id, func.max(cells.c.attempt))
            .where(cells.c.sweep_id == sweep_id)
            .group_by(cells.c.cell_id)
        ).all()
    )
    for cid in diff.changed:
        seq, cell = wanted[cid]
        conn.execute(
            update(planned)
            .where(planned.c.cell_id == cid)
            .values(
                spec=cell.model_dump(mode="json"),
                seq=seq,
                queue=cell.queue_tag,
                after_attempt=int(latest.get(cid) or 0),
                **_FRESH,
                fence=planned.c.fence + 1,
            )
        )
        conn.execute(delete(checkpoints).where(checkpoints.c.cell_id == cid))
    # unchanged cells a cancel stopped run again
    conn.execute(
        update(planned)
        .where(planned.c.sweep_id == sweep_id, planned.c.cancelled.is_(True))
        .values(cancelled=False, enqueued_at=None, not_before=None)
    )


_FRESH: dict[str, Any] = {
    "enqueued_at": None,
    "not_before": None,
    "tries": 0,
    "cancelled": False,
    "holder": None,
    "lease_until": None,
}
"""A planned cell waiting for its first try."""


def _dispatchable(conn: Connection, sweep_id: str) -> Any:
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
    with store._read(f"read plan {sweep_id}") as conn:
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
    with store._read(f"read plan of {cell_id}") as conn:
        return conn.execute(select(planned.c.spec).where(planned.c.cell_id == cell_id)).scalar_one_or_none()


def mark_enqueued(store: ResultStore, cell_ids: Iterable[str]) -> None:
    ids = list(cell_ids)
    if not ids:
        return
    with store._write("mark enqueued") as conn:
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
    with store._write("reset planned cells") as conn:
        now = store_now(conn)
        for start in range(0, len(ids), CHUNK):
            done += conn.execute(
                update(planned)
                .where(planned.c.cell_id.in_(ids[start : start + CHUNK]), ~live_lease(now))
                .values(enqueued_at=None)
            ).rowcount
    return done


def retry(store: ResultStore, sweep_id: str, after_attempts: dict[str, int]) -> int:
    """Plan the given cells to run again (``cab retry``): a final result counts only above
    ``after_attempts[cell]``, the poison budget (tries) starts again, a cancel no longer holds them,
    and the sweep is active again. Other cells are left as they are. Returns how many were planned."""
    done = 0
    with store._write(f"retry cells of {sweep_id}") as conn:
        now = store_now(conn)
        for cell_id, after in after_attempts.items():
            done += conn.execute(
                update(planned)
                .where(planned.c.cell_id == cell_id, planned.c.sweep_id == sweep_id, ~live_lease(now))
                .values(after_attempt=after, **_FRESH)
            ).rowcount
        if done:
            conn.execute(
                update(sweeps).where(sweeps.c.sweep_id == sweep_id).values(active=True, stopped=None)
            )
    return done


def cancel(store: ResultStore, sweep_id: str) -> int:
    """Cancel a sweep: every cell without a final result is cancelled (a running one stops at its
    next lease renewal); returns how many cells were open."""
    with store._write(f"cancel {sweep_id}") as conn:
        conn.execute(update(sweeps).where(sweeps.c.sweep_id == sweep_id).values(cancelled_at=store_now(conn)))
        return conn.execute(
            update(planned)
            .where(planned.c.sweep_id == sweep_id, planned.c.cancelled.is_(False), ~final_above_after())
            .values(
                cancelled=True, enqueued_at=func.coalesce(planned.c.enqueued_at, func.current_timestamp())
            )
        ).rowcount


def open_count(store: ResultStore, sweep_id: str) -> int:
    """Planned cells that still need a result: no final one above ``after_attempt``, not cancelled."""
    query = (
        select(func.count())
        .select_from(planned)
        .where(planned.c.sweep_id == sweep_id, planned.c.cancelled.is_(False), ~final_above_after())
    )
    with store._read(f"count open {sweep_id}") as conn:
        return int(conn.execute(query).scalar() or 0)


@dataclass(frozen=True)
class CellState:
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


def cell_states(store: ResultStore, sweep_id: str) -> dict[str, CellState]:
    """Every planned cell of the sweep with its dispatch, lease and retry state (the store's clock)."""
    with store._read(f"read plan {sweep_id}") as conn:
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
    with store._read(f"read plan {sweep_id}") as conn:
        return {r.cell_id: (r.tui, r.model, r.enqueued_at is not None) for r in conn.execute(query)}


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
    with store._read(f"count plan {sweep_id}") as conn:
        return int(conn.execute(query).scalar() or 0)


def pending_queues(store: ResultStore, sweep_id: str) -> list[str]:
    """Capability tags that have cells the dispatcher may send now."""
    with store._read(f"read plan {sweep_id}") as conn:
        query = select(planned.c.queue).where(_dispatchable(conn, sweep_id))
        return sorted(set(conn.execute(query.distinct()).scalars()))


def open_queues(store: ResultStore, sweep_id: str) -> list[str]:
    """Capability tags of cells that still need a result."""
    query = select(planned.c.queue).where(
        planned.c.sweep_id == sweep_id, planned.c.cancelled.is_(False), ~final_above_after()
    )
    with store._read(f"read plan {sweep_id}") as conn:
        return sorted(set(conn.execute(query.distinct()).scalars()))


def unfinished_enqueued(store: ResultStore, sweep_id: str) -> list[tuple[str, str]]:
    """Reconciler candidates, (cell_id, queue tag): dispatched, not cancelled, no final result above
    ``after_attempt`` (an earlier final result of a retried cell does not hide it), and nobody holds
    a live lease on it."""
    with store._read(f"read plan {sweep_id}") as conn:
        query = select(planned.c.cell_id, planned.c.queue).where(
            planned.c.sweep_id == sweep_id,
            planned.c.enqueued_at.is_not(None),
            planned.c.cancelled.is_(False),
            ~live_lease(store_now(conn)),
            ~final_above_after(),
        )
        return [(r.cell_id, r.queue) for r in conn.execute(query)]


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
    return _aware(first), _aware(last)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes for what was written in UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


# ---------------------------------------------------------------------------------- sweep state


@dataclass(frozen=True)
class SweepState:
    active: bool
    cancelled: bool
    stopped: str | None
    created_at: datetime


def active_sweeps(store: ResultStore) -> list[str]:
    """Sweeps the dispatcher visits: submitted (or retried) and not yet done, cancelled or stopped."""
    with store._read("list active sweeps") as conn:
        return list(
            conn.execute(
                select(sweeps.c.sweep_id).where(sweeps.c.active.is_(True)).order_by(sweeps.c.sweep_id)
            ).scalars()
        )


def sweep_state(store: ResultStore, sweep_id: str) -> SweepState | None:
    query = select(sweeps.c.active, sweeps.c.cancelled_at, sweeps.c.stopped, sweeps.c.created_at).where(
        sweeps.c.sweep_id == sweep_id
    )
    with store._read(f"read sweep {sweep_id}") as conn:
        row = conn.execute(query).one_or_none()
    if row is None:
        return None
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
    return SweepState(bool(row.active), row.cancelled_at is not None, row.stopped, created)


def sweep_stopped(store: ResultStore, sweep_id: str) -> str | None:
    """Why the sweep's budget stopped it, or None."""
    state = sweep_state(store, sweep_id)
    return state.stopped if state else None


def set_inactive(store: ResultStore, sweep_id: str, *, stopped: str | None = None) -> None:
    """The dispatcher is done with the sweep (finished, cancelled, or its budget is spent)."""
    values: dict[str, Any] = {"active": False} | ({"stopped": stopped} if stopped else {})
    with store._write(f"sweep {sweep_id} inactive") as conn:
        conn.execute(update(sweeps).where(sweeps.c.sweep_id == sweep_id).values(values))
