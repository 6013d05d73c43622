"""One delivery of one cell on a worker host: the plain function behind the thin Celery task.

Redis delivers at least once; this makes the effects happen once::

    cancelled sweep?            -> drop
    final result in the store?  -> drop (a duplicate of a finished cell)
    lease (wait for a dead holder's to expire; a live holder keeps it) -> else drop
    deliveries > max_attempts?  -> store a poison result (final), drop
    run the pipeline under a heartbeat: cancel or a lost lease kills the containers
    store the result only while the lease (fencing token) is still ours
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis
import structlog

from cab_core import keys
from cab_core.errors import InfraError
from cab_core.schema import CellResult, CellSpec, Failure, FailureClass, RunIdentity, Timing
from cab_core.store import ResultStore
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
        identity=RunIdentity(
            cell_id=cell.cell_id,
            sweep_id=cell.sweep_id,
            tui=cell.tui,
            model=cell.model,
            task_id=cell.task.task_id,
            run=cell.run,
            attempt=attempt,
            container_image="",
            model_build_id=cell.model,
            host=host,
        ),
        timing=Timing(started_at=now, ended_at=now, duration_s=0.0),
        failure=Failure(
            failure_class=FailureClass.infra,
            retryable=False,
            reason=f"poison: {deliveries} deliveries started and none finished; not retried",
        ),
    )


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
        try:
            return _run_leased(cell, host, lease, after)
        finally:
            lease.release()


def _is_final(store: ResultStore, cell_id: str, after_attempt: int) -> bool:
    """A final result above ``after_attempt`` exists (0: any final result)."""
    latest = store.get(cell_id)
    return latest is not None and latest.is_final and latest.identity.attempt > after_attempt


def _run_leased(cell: CellSpec, host: WorkerHost, lease: CellLease, after: int) -> dict[str, Any]:
    r = host.redis
    r.srem(keys.queued(cell.sweep_id), cell.cell_id)
    if _is_final(host.store, cell.cell_id, after):  # the previous holder just finished
        return _outcome("already_final", cell.cell_id)
    deliveries = int(r.incr(keys.attempts(cell.cell_id)))
    attempt = max(deliveries, host.store.next_attempt(cell.cell_id))
    structlog.contextvars.bind_contextvars(attempt=attempt)
    if deliveries > host.max_attempts:
        host.store.upsert_result(
            poison_result(cell, attempt, deliveries, host.ctx.host or socket.gethostname())
        )
        log.warning("cell_poisoned", deliveries=deliveries)
        return _outcome("poison", cell.cell_id, attempt=attempt)

    stop: list[str] = []

    def on_lost(reason: str) -> None:
        stop.append(reason)
        host.ctx.sandbox.stop_cell(cell.cell_id, attempt)

    def should_stop() -> str | None:
        return "sweep cancelled" if r.exists(keys.cancel(cell.sweep_id)) else None

    def sink(result: CellResult) -> None:
        if stop or not lease.still_held():
            log.warning("cell_result_discarded", reason=stop[0] if stop else "lease lost")
            return
        host.store.upsert_result(result)

    with lease.heartbeat(on_lost=on_lost, should_stop=should_stop):
        result = run_cell(cell, host.ctx, attempt=attempt, sink=sink)
    if stop:
        return _outcome("stopped", cell.cell_id, attempt=attempt, reason=stop[0])
    return _outcome("stored", cell.cell_id, attempt=attempt, failure_class=result.failure.failure_class.value)
