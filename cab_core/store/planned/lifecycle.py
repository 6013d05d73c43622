"""A sweep's lifecycle in the plan: active while the dispatcher visits it, cancelled, retried, stopped.

``cab cancel`` cancels every open cell; ``cab retry`` plans chosen cells again and makes the sweep
active again; the dispatcher sets a sweep inactive once it is finished, cancelled or out of budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update

from cab_core.store.leases import final_above_after, live_lease, store_now
from cab_core.store.planned.recording import FRESH
from cab_core.store.result_store import ResultStore
from cab_core.store.tables import planned, sweeps


@dataclass(frozen=True)
class SweepState:
    """What the store says about a submitted sweep."""

    active: bool
    """The dispatcher still visits it."""
    cancelled: bool
    stopped: str | None
    """Why its budget stopped it, or None."""
    created_at: datetime


def retry(store: ResultStore, sweep_id: str, after_attempts: dict[str, int]) -> int:
    """Plan the given cells to run again (``cab retry``): a final result counts only above
    ``after_attempts[cell]``, the poison budget (tries) starts again, a cancel no longer holds them,
    and the sweep is active again. Other cells are left as they are. Returns how many were planned."""
    done = 0
    with store.transaction(f"retry cells of {sweep_id}") as conn:
        now = store_now(conn)
        for cell_id, after in after_attempts.items():
            done += conn.execute(
                update(planned)
                .where(planned.c.cell_id == cell_id, planned.c.sweep_id == sweep_id, ~live_lease(now))
                .values(after_attempt=after, **FRESH)
            ).rowcount
        if done:
            conn.execute(
                update(sweeps).where(sweeps.c.sweep_id == sweep_id).values(active=True, stopped=None)
            )
    return done


def cancel(store: ResultStore, sweep_id: str) -> int:
    """Cancel a sweep: every cell without a final result is cancelled (a running one stops at its
    next lease renewal); returns how many cells were open."""
    with store.transaction(f"cancel {sweep_id}") as conn:
        conn.execute(update(sweeps).where(sweeps.c.sweep_id == sweep_id).values(cancelled_at=store_now(conn)))
        return conn.execute(
            update(planned)
            .where(planned.c.sweep_id == sweep_id, planned.c.cancelled.is_(False), ~final_above_after())
            .values(
                cancelled=True, enqueued_at=func.coalesce(planned.c.enqueued_at, func.current_timestamp())
            )
        ).rowcount


def active_sweeps(store: ResultStore) -> list[str]:
    """Sweeps the dispatcher visits: submitted (or retried) and not yet done, cancelled or stopped."""
    with store.reading("list active sweeps") as conn:
        return list(
            conn.execute(
                select(sweeps.c.sweep_id).where(sweeps.c.active.is_(True)).order_by(sweeps.c.sweep_id)
            ).scalars()
        )


def sweep_state(store: ResultStore, sweep_id: str) -> SweepState | None:
    """The sweep's state, or None when it was never submitted."""
    query = select(sweeps.c.active, sweeps.c.cancelled_at, sweeps.c.stopped, sweeps.c.created_at).where(
        sweeps.c.sweep_id == sweep_id
    )
    with store.reading(f"read sweep {sweep_id}") as conn:
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
    with store.transaction(f"sweep {sweep_id} inactive") as conn:
        conn.execute(update(sweeps).where(sweeps.c.sweep_id == sweep_id).values(values))
