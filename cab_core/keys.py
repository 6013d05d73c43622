"""Every Redis key cab uses, in one place. ``{...}`` parts are filled by the helpers below.

cab:lease:{cell_id}          "<fence>:<worker>"   who runs the cell now (PX lease, heartbeat-renewed)
cab:fence:{cell_id}          int                  monotonically increasing fencing token
cab:attempts:{cell_id}       int                  deliveries that started the cell (poison cap)
cab:queued:{sweep_id}        set of cell ids      enqueued and not yet started (reconciler, status)
cab:cancel:{sweep_id}        "1"                  the sweep was cancelled
cab:budget:{sweep_id}        reason               the sweep's budget is spent: no cell starts any more
cab:sem:{name}               zset member->expiry  cross-host semaphore (per-model concurrency cap)
cab:dispatch:{sweep_id}      "1"                  a dispatcher owns this sweep's fan-out (lock)
cab:sweeps                   set of sweep ids     sweeps with cells not yet final (reconciler)
"""

from __future__ import annotations

PREFIX = "cab"


def lease(cell_id: str) -> str:
    return f"{PREFIX}:lease:{cell_id}"


def fence(cell_id: str) -> str:
    return f"{PREFIX}:fence:{cell_id}"


def attempts(cell_id: str) -> str:
    return f"{PREFIX}:attempts:{cell_id}"


def queued(sweep_id: str) -> str:
    return f"{PREFIX}:queued:{sweep_id}"


def cancel(sweep_id: str) -> str:
    return f"{PREFIX}:cancel:{sweep_id}"


def budget(sweep_id: str) -> str:
    return f"{PREFIX}:budget:{sweep_id}"


def semaphore(name: str) -> str:
    return f"{PREFIX}:sem:{name}"


def dispatch_lock(sweep_id: str) -> str:
    return f"{PREFIX}:dispatch:{sweep_id}"


ACTIVE_SWEEPS = f"{PREFIX}:sweeps"
