"""Every Redis key cab uses, in one place. ``{...}`` parts are filled by the helpers below.

Redis holds only what can be rebuilt from the store (the system of record: plans, leases, fences,
tries, cancels and results live there, see ``cab_core.store.leases``) or what is about liveness:

cab:queued:{sweep_id}        set of cell ids      published and not yet taken (the reconciler's hint)
cab:sem:{name}               zset member->expiry  cross-host semaphore (per-model concurrency cap)
cab:worker:{name}            JSON, TTL            a live worker and the queues it takes (status)
cab:dispatcher               dispatcher id, PX    the leading dispatcher (cab_scheduler.dispatch)
cab:epoch                    id and time          set by the dispatcher; gone = Redis restarted empty
"""

from __future__ import annotations

PREFIX = "cab"

DISPATCHER = f"{PREFIX}:dispatcher"
EPOCH = f"{PREFIX}:epoch"
WORKERS_MATCH = f"{PREFIX}:worker:*"


def queued(sweep_id: str) -> str:
    return f"{PREFIX}:queued:{sweep_id}"


def semaphore(name: str) -> str:
    return f"{PREFIX}:sem:{name}"


def worker(name: str) -> str:
    return f"{PREFIX}:worker:{name}"
