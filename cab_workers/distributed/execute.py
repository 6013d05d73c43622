"""One delivery of one cell on a worker host: the plain function behind the thin Celery task.

Redis delivers at least once; this makes the effects happen once::

    cancelled sweep?            -> drop
    budget spent?               -> drop (the sweep's recorded spend, or the dispatcher's flag)
    final result in the store?  -> drop (a duplicate of a finished cell)
    lease (wait for a dead holder's to expire; a live holder keeps it) -> else drop
    deliveries > max_attempts?  -> store a poison result (final), drop
    run the pipeline under a heartbeat: cancel or a lost lease kills the containers
    store the result only while the lease (fencing token) is still ours
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import redis
import structlog

from cab_core import keys
from cab_core.budget import exhausted
from cab_core.errors import InfraError
from cab_core.schema import CellResult, CellSpec, Failure, FailureClass, Timing
from cab_core.semaphore import RedisSemaphore
from cab_core.store import ResultStore
from cab_core.store import planned as plan
from cab_workers.distributed.lease import CellLease
from cab_workers.pipeline import HostContext, run_cell

log = structlog.get_logger(__name__)


@dataclass
class WorkerHost:
    """What every cell delivery on this worker process shares."""

    ctx: HostContext
    store: ResultStore
    redis: redis.Redis
    worker: str
    """This worker's name (hostname plus process), written into leases and logs."""
    lease_ttl_s: float = 30.0
    max_attempts: int = 3
    semaphore_wait_s: float = 30.0


def _outcome(status: str, cell_id: str, **extra: Any) -> dict[str, Any]:
    return {"status": status, "cell_id": cell_id, **extra}


def poison_result(cell: CellSpec, attempt: int, deliveries: int, host: str) -> CellResult:
    """The final record of a cell that failed every allowed delivery."""
    now = datetime.now(UTC)
    return CellResult(
        identity=cell.identity(attempt, host=host),
        timing=Timing(started_at=now, ended_at=now, duration_s=0.0),
        failure=Failure(
            failure_class=FailureClass.infra,
            retryable=False,
            reason=f"poison: {deliveries} deliveries started and none finished; not retried",
        ),
    )


@dataclass
class _Leased:
    """What the heartbeat and the pipeline share while this worker holds a cell's lease."""

    stop: list[str] = field(default_factory=list)
    attempt: int | None = None


def execute_cell(payload: dict[str, Any], host: WorkerHost) -> dict[str, Any]:
    """Run one delivered cell at most once at a time across all hosts; returns a small JSON outcome."""
    cell = CellSpec.model_validate(payload["cell"])
    after = int(payload.get("after_attempt", 0))
    r = host.redis
    with structlog.contextvars.bound_contextvars(
        sweep_id=cell.sweep_id, cell_id=cell.cell_id, worker=host.worker
    ):
        try:
            if r.exists(keys.cancel(cell.sweep_id)):
                r.srem(keys.queued(cell.sweep_id), cell.cell_id)
                log.info("cell_dropped_cancelled")
                return _outcome("cancelled", cell.cell_id)
            spent = r.get(keys.budget(cell.sweep_id)) or (
                exhausted(cell.budget, host.store.sweep_spend(cell.sweep_id)) if cell.budget else None
            )
            if spent:
                reason = spent.decode() if isinstance(spent, bytes) else spent
                r.set(keys.budget(cell.sweep_id), reason)
                r.srem(keys.queued(cell.sweep_id), cell.cell_id)
                log.info("cell_dropped_budget", reason=reason)
                return _outcome("budget", cell.cell_id, reason=reason)
            if _is_final(host.store, cell.cell_id, after):
                r.srem(keys.queued(cell.sweep_id), cell.cell_id)
                log.info("cell_dropped_already_final")
                return _outcome("already_final", cell.cell_id)
            lease = CellLease(r, cell.cell_id, holder=host.worker, ttl_s=host.lease_ttl_s)
            if not lease.acquire(wait_s=host.lease_ttl_s + 2):
                log.info("cell_dropped_duplicate", holder=lease.current_holder_safe())
                return _outcome("duplicate", cell.cell_id, holder=lease.current_holder_safe())
        except redis.RedisError as e:
            raise InfraError(f"redis unreachable while starting {cell.cell_id}: {e}") from e
        state = _Leased()

        def on_lost(reason: str) -> None:
            state.stop.append(reason)
            if state.attempt is not None:
                host.ctx.sandbox.stop_cell(cell.cell_id, state.attempt)

        def should_stop() -> str | None:
            return "sweep cancelled" if r.exists(keys.cancel(cell.sweep_id)) else None

        try:
            # the heartbeat covers everything done under the lease, waiting for a model slot included
            with lease.heartbeat(on_lost=on_lost, should_stop=should_stop):
                return _run_leased(cell, host, lease, after, state)
        finally:
            lease.release()


def _is_final(store: ResultStore, cell_id: str, after_attempt: int) -> bool:
    """A final result above ``after_attempt`` exists (0: any final result)."""
    latest = store.get(cell_id)
    return latest is not None and latest.is_final and latest.identity.attempt > after_attempt


def _run_leased(
    cell: CellSpec, host: WorkerHost, lease: CellLease, after: int, state: _Leased
) -> dict[str, Any]:
    host.redis.srem(keys.queued(cell.sweep_id), cell.cell_id)
    if _is_final(host.store, cell.cell_id, after):  # the previous holder just finished
        return _outcome("already_final", cell.cell_id)
    slot = _model_slot(cell, host)
    holder = f"{host.worker}|{cell.cell_id}"
    if slot is not None and not slot.acquire(holder, host.semaphore_wait_s):
        plan.reset(host.store, [cell.cell_id])  # back to the plan: the dispatcher re-sends it later
        log.info("cell_deferred_model_cap", limit=cell.model_concurrency)
        return _outcome("deferred", cell.cell_id)
    try:
        return _run_admitted(cell, host, lease, state)
    finally:
        if slot is not None:
            slot.release(holder)


def _model_slot(cell: CellSpec, host: WorkerHost) -> RedisSemaphore | None:
    """The cross-host slot of the cell's model when the sweep caps per-model concurrency."""
    if not cell.model_concurrency:
        return None
    t = cell.task.timeouts
    budget = max(host.lease_ttl_s, t.agent_s + t.test_s + t.setup_s)  # a crashed holder frees it by then
    return RedisSemaphore(host.redis, f"model:{cell.model}", cell.model_concurrency, lease_s=budget)


def _run_admitted(cell: CellSpec, host: WorkerHost, lease: CellLease, state: _Leased) -> dict[str, Any]:
    deliveries = int(host.redis.incr(keys.attempts(cell.cell_id)))
    attempt = max(deliveries, host.store.next_attempt(cell.cell_id))
    state.attempt = attempt
    structlog.contextvars.bind_contextvars(attempt=attempt)
    if deliveries > host.max_attempts:
        host.store.upsert_result(
            poison_result(cell, attempt, deliveries, host.ctx.host or socket.gethostname())
        )
        log.warning("cell_poisoned", deliveries=deliveries)
        return _outcome("poison", cell.cell_id, attempt=attempt)
    if state.stop:
        return _outcome("stopped", cell.cell_id, attempt=attempt, reason=state.stop[0])

    def sink(result: CellResult) -> None:
        if state.stop or not lease.still_held():
            log.warning("cell_result_discarded", reason=state.stop[0] if state.stop else "lease lost")
            return
        host.store.upsert_result(result)

    result = run_cell(cell, host.ctx, attempt=attempt, sink=sink)
    if state.stop:
        return _outcome("stopped", cell.cell_id, attempt=attempt, reason=state.stop[0])
    return _outcome("stored", cell.cell_id, attempt=attempt, failure_class=result.failure.failure_class.value)
