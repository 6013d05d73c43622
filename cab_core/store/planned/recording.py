"""Recording a plan: ``cab submit`` writes the sweep and all its planned cells in one transaction.

The same spec again is a no-op (a retried submission); cells whose task content changed are re-planned
(a changed task is not a changed sweep); a different spec under the same sweep id is refused, or with
``--replace`` re-planned in place (:func:`record_plan`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from cab_core.errors import SweepError
from cab_core.schema import CellSpec, SweepSpec
from cab_core.store import rows
from cab_core.store.result_store import ResultStore
from cab_core.store.tables import (
    artifacts,
    cells,
    checkpoints,
    exchanges,
    model_calls,
    planned,
    spans,
    sweeps,
)

CHUNK = 2000
"""Rows per INSERT (or ids per ``IN``) statement when writing many planned cells."""

FRESH: Mapping[str, object] = MappingProxyType(
    {
        "enqueued_at": None,
        "not_before": None,
        "tries": 0,
        "cancelled": False,
        "holder": None,
        "lease_until": None,
    }
)
"""The ``planned`` columns of a cell waiting for its first try."""

Wanted = dict[str, tuple[int, CellSpec]]
"""cell_id -> (its ``seq``: position in the expansion, its spec)."""


@dataclass(frozen=True)
class PlanDiff:
    """How a submission differs from what is already planned under the same sweep id."""

    new_sweep: bool
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    """Cells planned before whose spec differs now in more than their task (needs ``--replace``)."""
    spec_changed: bool = False
    retasked: list[str] = field(default_factory=list)
    """Cells planned before whose task content changed (another ``task_hash``), nothing else: they
    are re-planned to run again as a new attempt, with or without ``--replace``."""
    retasked_tasks: list[str] = field(default_factory=list)
    """The task ids of ``retasked``, sorted."""

    @property
    def same(self) -> bool:
        """Nothing to do at all (a retried submission)."""
        return not (self.sweep_changed or self.retasked)

    @property
    def sweep_changed(self) -> bool:
        """A change a resubmission may make only with ``--replace`` (a changed task is not one)."""
        return bool(self.new_sweep or self.added or self.removed or self.changed or self.spec_changed)

    def summary(self) -> str:
        parts = [f"+{len(self.added)} cells"] if self.added else []
        parts += [f"-{len(self.removed)} cells (their results are dropped)"] if self.removed else []
        parts += [f"{len(self.changed)} changed cells rerun (e.g. {self.changed[0]})"] if self.changed else []
        if self.spec_changed and not parts:
            parts = ["the sweep spec changed (same cells)"]
        if self.retasked:
            tasks = ", ".join(self.retasked_tasks)
            parts.append(f"{len(self.retasked)} cells of changed tasks rerun ({tasks}); other cells kept")
        return ", ".join(parts) or "no change"


def record_plan(
    store: ResultStore, spec: SweepSpec, cell_specs: list[CellSpec], *, replace: bool = False
) -> PlanDiff:
    """Record the sweep and every planned cell atomically.

    The same spec again is a no-op (a retried submission). Cells whose task content changed (another
    ``task_hash``, nothing else) are re-planned to run again as their next attempt, keeping their
    earlier results as the other version; every other cell is left as it is. A different spec under
    the same sweep id is refused with :class:`SweepError` unless ``replace``: then, in the same
    transaction, removed cells and their results go, changed cells are re-planned to run again (their
    running holder loses its fence and stops), new cells are added, and the sweep is active again (not
    cancelled).
    """
    dumped = rows.dump(spec)
    wanted: Wanted = {c.cell_id: (i, c) for i, c in enumerate(cell_specs)}
    with store.transaction(f"record plan {spec.sweep_id}") as conn:
        diff, new = _diff(conn, spec.sweep_id, dumped, wanted)
        if not diff.new_sweep and diff.sweep_changed and not replace:
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
        if diff.retasked:
            _replan(conn, spec.sweep_id, diff.retasked, wanted)
            conn.execute(
                update(sweeps).where(sweeps.c.sweep_id == spec.sweep_id).values(active=True, stopped=None)
            )
        _insert_new(conn, wanted, new)
    return diff


def _diff(
    conn: Connection, sweep_id: str, dumped: dict[str, Any], wanted: Wanted
) -> tuple[PlanDiff, list[str]]:
    """What the submission changes against the stored plan, and the ids of cells not planned yet."""
    old_spec = conn.execute(select(sweeps.c.spec).where(sweeps.c.sweep_id == sweep_id)).scalar_one_or_none()
    known = {
        r.cell_id: r.spec
        for r in conn.execute(select(planned.c.cell_id, planned.c.spec).where(planned.c.sweep_id == sweep_id))
    }
    new = [cid for cid in wanted if cid not in known]
    kinds = {cid: _change(c, known[cid]) for cid, (_, c) in wanted.items() if cid in known}
    retasked = sorted(cid for cid, kind in kinds.items() if kind == "task")
    diff = PlanDiff(
        new_sweep=old_spec is None,
        added=new if old_spec is not None else [],
        removed=sorted(set(known) - set(wanted)),
        changed=sorted(cid for cid, kind in kinds.items() if kind == "cell"),
        # a spec stored in an older layout is compared as it loads today
        spec_changed=old_spec is not None
        and old_spec != dumped
        and rows.dump(SweepSpec.model_validate(old_spec)) != dumped,
        retasked=retasked,
        retasked_tasks=sorted({wanted[cid][1].task.task_id for cid in retasked}),
    )
    return diff, new


def _change(cell: CellSpec, stored: dict[str, Any]) -> str:
    """How ``cell`` differs from its stored plan: "" (it does not), "task" (only its task content:
    another ``task_hash``, and the task spec that came with it) or "cell" (anything else).

    A cell stored before tasks had hashes (``task_hash`` empty) whose task spec is the same is not
    changed: its host's own task folder keeps serving it."""
    if cell.same_plan(stored):
        return ""
    old = CellSpec.model_validate(stored)
    if not cell.same_plan(
        old.model_copy(update={"task": cell.task, "task_hash": cell.task_hash}).model_dump(mode="json")
    ):
        return "cell"
    if not old.task_hash:
        return "" if old.task == cell.task else "task"
    return "task" if old.task_hash != cell.task_hash else "cell"


def _insert_new(conn: Connection, wanted: Wanted, new: list[str]) -> None:
    """Plan the cells not planned before, ``CHUNK`` rows per statement."""
    unplanned = set(new)
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
        if cid in unplanned
    ]
    for start in range(0, len(values), CHUNK):
        conn.execute(insert(planned), values[start : start + CHUNK])


def _replan(conn: Connection, sweep_id: str, cell_ids: list[str], wanted: Wanted) -> None:
    """Plan ``cell_ids`` afresh with their new spec: their next result is a new attempt (earlier ones
    stay, and count no more), a running holder loses its fence and stops, their checkpoint goes."""
    if not cell_ids:
        return
    latest = dict(
        conn.execute(
            select(cells.c.cell_id, func.max(cells.c.attempt))
            .where(cells.c.sweep_id == sweep_id)
            .group_by(cells.c.cell_id)
        ).all()
    )
    for cid in cell_ids:
        seq, cell = wanted[cid]
        conn.execute(
            update(planned)
            .where(planned.c.cell_id == cid)
            .values(
                spec=cell.model_dump(mode="json"),
                seq=seq,
                queue=cell.queue_tag,
                after_attempt=int(latest.get(cid) or 0),
                **FRESH,
                fence=planned.c.fence + 1,
            )
        )
        conn.execute(delete(checkpoints).where(checkpoints.c.cell_id == cid))


def _replace(conn: Connection, sweep_id: str, diff: PlanDiff, wanted: Wanted) -> None:
    """``--replace``: drop removed cells with their results, re-plan changed ones, un-cancel the rest."""
    for start in range(0, len(diff.removed), CHUNK):
        ids = diff.removed[start : start + CHUNK]
        for table in (spans, model_calls, exchanges, artifacts, cells, checkpoints, planned):
            conn.execute(delete(table).where(table.c.cell_id.in_(ids)))
    _replan(conn, sweep_id, diff.changed, wanted)
    # unchanged cells a cancel stopped run again
    conn.execute(
        update(planned)
        .where(planned.c.sweep_id == sweep_id, planned.c.cancelled.is_(True))
        .values(cancelled=False, enqueued_at=None, not_before=None)
    )
