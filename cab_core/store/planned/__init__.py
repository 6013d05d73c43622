"""The distributed sweep's work list: planned cells, what is dispatched, what is still pending.

``cab submit`` writes the sweep and all its planned cells in one transaction (nothing partial);
the dispatcher, next to the broker, reads pending cells in ``seq`` order and marks them enqueued;
the reconciler and ``cab retry`` put cells back to pending. Callers use the package
(``from cab_core.store import planned as plan``; ``plan.record_plan(...)``)::

    recording.py    record_plan, PlanDiff: the sweep and its cells, atomically (``--replace`` re-plans)
    dispatching.py  the dispatcher's side: pending cells, marked enqueued, reset by the reconciler
    lifecycle.py    cancel, retry, and the sweep's active / stopped state
    progress.py     read-only views for ``cab status``: cell states, open cells, latest results and the
                    task versions they ran

Every operation takes the ``ResultStore`` and runs in one of its public transactions
(``store.transaction`` / ``store.reading``); the cell leases on the same rows are ``store.leases``.
"""

from __future__ import annotations

from cab_core.store.planned.dispatching import (
    mark_enqueued,
    pending,
    pending_count,
    pending_queues,
    pending_specs,
    planned_spec,
    reset,
    unfinished_enqueued,
)
from cab_core.store.planned.lifecycle import (
    SweepState,
    active_sweeps,
    cancel,
    retry,
    set_inactive,
    sweep_state,
    sweep_stopped,
)
from cab_core.store.planned.progress import (
    CellState,
    cell_states,
    first_and_last_result_at,
    latest_summary,
    open_count,
    open_queues,
    planned_cells,
    task_versions,
)
from cab_core.store.planned.recording import PlanDiff, record_plan

__all__ = [
    "CellState",
    "PlanDiff",
    "SweepState",
    "active_sweeps",
    "cancel",
    "cell_states",
    "first_and_last_result_at",
    "latest_summary",
    "mark_enqueued",
    "open_count",
    "open_queues",
    "pending",
    "pending_count",
    "pending_queues",
    "pending_specs",
    "planned_cells",
    "planned_spec",
    "record_plan",
    "reset",
    "retry",
    "set_inactive",
    "sweep_state",
    "sweep_stopped",
    "task_versions",
    "unfinished_enqueued",
]
