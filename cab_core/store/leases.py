"""Cell leases held in the store: who runs a planned cell now, and the fence its result write needs.

The store, not Redis, decides. Each ``planned`` row carries its lease::

    acquire  one UPDATE: fence += 1, tries += 1, holder, lease_until = now + ttl
             only if the cell is planned, not cancelled, has no final result above
             ``after_attempt``, and nobody holds an unexpired lease
    renew    UPDATE lease_until = now + ttl WHERE fence = mine   (0 rows: the lease was taken)
    finish   in ONE transaction: UPDATE ... WHERE fence = mine (release, and for a retryable failure
             back to the plan with a backoff), then the result rows; 0 rows updated -> nothing written
    release  clear the lease WHERE fence = mine (optionally back to the plan, the try refunded)
    abandon  fence += 1 WHERE fence = mine: whatever that holder still writes is refused

Time is the store's clock (``now()``), never a host's, so hosts with skewed clocks agree. A holder
that pauses (SIGSTOP, a long GC) past its lease and resumes finds its fence taken: its write is
refused by the same transaction that would have stored it, so a paused holder can never overwrite
the result of the holder that replaced it. A Redis that restarts empty loses no lease.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, case, exists, func, literal, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from cab_core.schema import CellResult
from cab_core.store.result_store import ResultStore
from cab_core.store.statements import write_result
from cab_core.store.tables import cells, planned


def store_now(conn: Connection) -> ColumnElement[Any]:
    """The store's clock in epoch seconds, as a SQL expression."""
    if conn.dialect.name == "postgresql":
        return func.extract("epoch", func.clock_timestamp())
    return (func.julianday("now") - 2440587.5) * 86400.0


def final_above_after() -> ColumnElement[bool]:
    """``planned`` row has a final result above its ``after_attempt`` (correlated EXISTS)."""
    return exists().where(
        cells.c.cell_id == planned.c.cell_id,
        cells.c.final.is_(True),
        cells.c.attempt > planned.c.after_attempt,
    )


def live_lease(now: ColumnElement[Any]) -> ColumnElement[bool]:
    return and_(planned.c.lease_until.is_not(None), planned.c.lease_until >= now)


@dataclass(frozen=True)
class Lease:
    """A lease this worker holds on one cell."""

    cell_id: str
    fence: int
    holder: str
    tries: int
    """Leases taken on this cell since it was planned or last retried, this one included."""
    after_attempt: int
    took_over: bool
    """The previous holder's lease expired without a release (it died or froze)."""


class Refusal(enum.StrEnum):
    not_planned = "not planned"
    cancelled = "cancelled"
    final = "already final"
    held = "held by another worker"


@dataclass(frozen=True)
class Refused:
    why: Refusal
    holder: str | None = None
    expires_in_s: float | None = None


@dataclass(frozen=True)
class Beat:
    held: bool
    cancelled: bool = False


def acquire(store: ResultStore, cell_id: str, holder: str, ttl_s: float) -> Lease | Refused:
    """Take the cell's lease if it is free (or expired) and the cell still needs a run."""
    with store.transaction(f"lease {cell_id}") as conn:
        now = store_now(conn)
        before = conn.execute(
            select(planned.c.holder, planned.c.lease_until).where(planned.c.cell_id == cell_id)
        ).one_or_none()
        taken = conn.execute(
            update(planned)
            .where(
                planned.c.cell_id == cell_id,
                planned.c.cancelled.is_(False),
                or_(planned.c.lease_until.is_(None), planned.c.lease_until < now),
                ~final_above_after(),
            )
            .values(
                fence=planned.c.fence + 1,
                tries=planned.c.tries + 1,
                holder=holder,
                lease_until=now + ttl_s,
                enqueued_at=func.coalesce(planned.c.enqueued_at, func.current_timestamp()),
                not_before=None,
            )
        ).rowcount
        row = conn.execute(
            select(
                planned.c.fence,
                planned.c.tries,
                planned.c.after_attempt,
                planned.c.holder,
                planned.c.cancelled,
                (planned.c.lease_until - now).label("left"),
                final_above_after().label("final"),
            ).where(planned.c.cell_id == cell_id)
        ).one_or_none()
    if row is None:
        return Refused(Refusal.not_planned)
    if taken:
        return Lease(
            cell_id,
            int(row.fence),
            holder,
            int(row.tries),
            int(row.after_attempt),
            took_over=before is not None and before.holder is not None,
        )
    if row.cancelled:
        return Refused(Refusal.cancelled)
    if row.final:
        return Refused(Refusal.final)
    return Refused(Refusal.held, row.holder, float(row.left) if row.left is not None else None)


def renew(store: ResultStore, lease: Lease, ttl_s: float) -> Beat:
    """Extend the lease; ``held`` False when another holder (or ``--replace``) took the fence."""
    with store.transaction(f"renew lease {lease.cell_id}") as conn:
        now = store_now(conn)
        mine = and_(planned.c.cell_id == lease.cell_id, planned.c.fence == lease.fence)
        held = conn.execute(update(planned).where(mine).values(lease_until=now + ttl_s)).rowcount == 1
        cancelled = conn.execute(select(planned.c.cancelled).where(mine)).scalar_one_or_none()
    return Beat(held, bool(cancelled))


def release(
    store: ResultStore, lease: Lease, *, requeue_after_s: float | None = None, refund: bool = False
) -> bool:
    """Clear the lease if still ours; ``requeue_after_s`` puts the cell back to the plan after that
    long, ``refund`` gives the try back (the cell was deferred, not run). False: it was not ours."""
    values: dict[str, Any] = {"holder": None, "lease_until": None}
    if refund:
        values["tries"] = case((planned.c.tries > 0, planned.c.tries - 1), else_=literal(0))
    with store.transaction(f"release lease {lease.cell_id}") as conn:
        if requeue_after_s is not None:
            values |= {"enqueued_at": None, "not_before": store_now(conn) + requeue_after_s}
        return (
            conn.execute(
                update(planned)
                .where(planned.c.cell_id == lease.cell_id, planned.c.fence == lease.fence)
                .values(values)
            ).rowcount
            == 1
        )


def abandon(store: ResultStore, lease: Lease) -> bool:
    """Give the lease up for good: bump the fence so nothing this holder writes later is stored."""
    with store.transaction(f"abandon lease {lease.cell_id}") as conn:
        return (
            conn.execute(
                update(planned)
                .where(planned.c.cell_id == lease.cell_id, planned.c.fence == lease.fence)
                .values(fence=planned.c.fence + 1, holder=None, lease_until=None)
            ).rowcount
            == 1
        )


def finish(
    store: ResultStore,
    lease: Lease,
    result: CellResult,
    *,
    retry_in_s: float | None,
    retire: bool = False,
    refund: bool = False,
) -> bool:
    """Store ``result`` and release the lease in one transaction, only while the fence is ours.

    ``retry_in_s`` (a retryable failure) puts the cell back to the plan, not dispatched before that
    many seconds from now. ``retire`` also bumps the fence, so a later write by the same holder (a
    thread that was given up as hung) is refused. ``refund`` does not count this try (a poison
    verdict: the try that found the budget spent ran nothing). False, with nothing written, when the
    fence is no longer ours.
    """
    ident = result.identity
    action = f"write {ident.cell_id} attempt {ident.attempt} (fence {lease.fence})"
    store.check(result, action)
    with store.transaction(action) as conn:
        values: dict[str, Any] = {"holder": None, "lease_until": None}
        if retry_in_s is not None:
            values |= {"enqueued_at": None, "not_before": store_now(conn) + retry_in_s}
        if retire:
            values["fence"] = planned.c.fence + 1
        if refund:
            values["tries"] = planned.c.tries - 1
        fenced = conn.execute(
            update(planned)
            .where(planned.c.cell_id == lease.cell_id, planned.c.fence == lease.fence)
            .values(values)
        ).rowcount
        if fenced != 1:
            return False
        write_result(conn, result)
    return True


def live_holders(store: ResultStore, cell_ids: list[str]) -> dict[str, str]:
    """cell_id -> the worker holding a live lease on it (cells nobody holds are left out)."""
    if not cell_ids:
        return {}
    with store.reading("read leases") as conn:
        query = select(planned.c.cell_id, planned.c.holder).where(
            planned.c.cell_id.in_(cell_ids), live_lease(store_now(conn))
        )
        return {r.cell_id: r.holder for r in conn.execute(query)}
