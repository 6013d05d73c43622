"""One delivery of one cell on a worker host: the plain function behind the thin Celery task.

Redis delivers at least once and may forget what it held; the store decides (``cab_core.store.leases``)::

    budget spent?                        -> drop
    take the cell's lease in the store   -> refused: drop (cancelled, already final, held elsewhere,
                                            not planned); the dispatcher's reconciler re-plans a cell
                                            whose holder dies, so a duplicate never waits
    tries > max_attempts?                -> store a poison result (final), drop
    model cap full?                      -> back to the plan after a short delay, the try refunded
    the lease was taken over?            -> remove the cell's leftover containers on this host
    run the pipeline under a CellWatch   (lease renewals, cancel, cab's own deadline)
    store the result and release the lease in one fenced transaction; a retryable failure goes
    back to the plan with an exponential backoff, the last allowed try is stored as final

Whatever goes wrong before the lease (an unreachable store, a message that does not validate),
the cell is taken out of ``cab:queued`` so the reconciler re-plans it; nothing is left "queued".
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import redis
import structlog
from pydantic import ValidationError

from cab_core import keys
from cab_core.budget import exhausted
from cab_core.errors import CabError, InfraError
from cab_core.schema import CellResult, CellSpec, FailureClass
from cab_core.semaphore import RedisSemaphore
from cab_core.settings import WorkerSettings
from cab_core.store import ResultStore, leases
from cab_core.store import planned as plan
from cab_workers.cell.pipeline import HostContext, run_cell
from cab_workers.distributed import retries
from cab_workers.distributed.watch import CellWatch, StopReason

log = structlog.get_logger(__name__)


@dataclass
class WorkerHost:
    """What every cell delivery on this worker process shares."""

    ctx: HostContext
    store: ResultStore
    redis: redis.Redis
    worker: str
    """This worker's name (hostname plus process), written into leases and logs."""
    settings: WorkerSettings
    """Lease, tries, backoff, deadline grace and write retries (``CAB_LEASE_TTL_S``, ...)."""


def _outcome(status: str, cell_id: str, **extra: Any) -> dict[str, Any]:
    return {"status": status, "cell_id": cell_id, **extra}


@dataclass
class _Run:
    """What the watch, the sink and the delivery share while this worker holds a cell."""

    lease: leases.Lease
    attempt: int
    stored: bool = False
    written: threading.Lock = field(default_factory=threading.Lock)


def execute_cell(payload: dict[str, Any], host: WorkerHost) -> dict[str, Any]:
    """Run one delivered cell at most once at a time across all hosts; returns a small JSON outcome."""
    raw = payload.get("cell") or {}
    cell_id = str(raw.get("cell_id", "?")) if isinstance(raw, dict) else "?"
    sweep_id = str(raw.get("sweep_id", "?")) if isinstance(raw, dict) else "?"
    with structlog.contextvars.bound_contextvars(
        sweep_id=sweep_id, cell_id=cell_id, worker=host.worker, attempt=None
    ):
        try:
            cell = _spec(raw, host.store, cell_id)
            spent = _budget_spent(cell, host.store)
            if spent:
                _unqueue(host, cell)
                log.info("cell_dropped_budget", reason=spent)
                return _outcome("budget", cell.cell_id, reason=spent)
            got = leases.acquire(host.store, cell.cell_id, host.worker, host.settings.lease_ttl_s)
        except Exception:
            _unqueue_raw(host, sweep_id, cell_id)  # the reconciler re-plans it; it is not "queued"
            raise
        _unqueue(host, cell)
        if isinstance(got, leases.Refused):
            log.info("cell_dropped", why=got.why.value, holder=got.holder)
            return _outcome(_REFUSED[got.why], cell.cell_id, holder=got.holder)
        try:
            return _run_leased(cell, host, got)
        except Exception:
            _release(host, got)  # fence-checked: after a stored result it changes nothing that matters
            raise


def _release(host: WorkerHost, lease: leases.Lease) -> None:
    """Give the lease back now rather than let it expire; the reconciler then re-plans the cell."""
    try:
        leases.release(host.store, lease)
    except CabError as e:
        log.warning("lease_release_failed", error=str(e)[:200])


_REFUSED = {
    leases.Refusal.cancelled: "cancelled",
    leases.Refusal.final: "already_final",
    leases.Refusal.held: "duplicate",
    leases.Refusal.not_planned: "not_planned",
}


def _spec(raw: Any, store: ResultStore, cell_id: str) -> CellSpec:
    """The delivered spec, or the plan's when the message's does not validate (an old or damaged
    message): the plan is the record."""
    try:
        return CellSpec.model_validate(raw)
    except ValidationError as e:
        stored = plan.planned_spec(store, cell_id)
        if stored is None:
            raise InfraError(
                f"{cell_id}: the delivered cell spec does not validate and is not planned: {e}"
            ) from e
        log.warning("cell_message_invalid", error=str(e)[:300])
        return CellSpec.model_validate(stored)


def _budget_spent(cell: CellSpec, store: ResultStore) -> str | None:
    stopped = plan.sweep_stopped(store, cell.sweep_id)
    if stopped:
        return stopped
    budget = cell.policy.budget
    return exhausted(budget, store.sweep_spend(cell.sweep_id)) if budget else None


def _unqueue(host: WorkerHost, cell: CellSpec) -> None:
    _unqueue_raw(host, cell.sweep_id, cell.cell_id)


def _unqueue_raw(host: WorkerHost, sweep_id: str, cell_id: str) -> None:
    """Best effort: a cell out of ``cab:queued`` with no live lease is re-planned by the reconciler
    (and when Redis is away, so is the queue: the reconciler finds it drained)."""
    try:
        host.redis.srem(keys.queued(sweep_id), cell_id)
    except redis.RedisError as e:
        log.warning("unqueue_failed", error=str(e)[:200])


def _run_leased(cell: CellSpec, host: WorkerHost, lease: leases.Lease) -> dict[str, Any]:
    attempt = max(host.store.next_attempt(cell.cell_id), lease.after_attempt + lease.tries)
    structlog.contextvars.bind_contextvars(attempt=attempt)
    if lease.tries > host.settings.max_attempts:
        result = retries.poison_result(cell, attempt, lease.tries, _host_name(host))
        stored = leases.finish(host.store, lease, result, retry_in_s=None, refund=True)
        log.warning("cell_poisoned", tries=lease.tries - 1, stored=stored)
        return _outcome("poison", cell.cell_id, attempt=attempt)
    slot = _model_slot(cell, host)
    slot_holder = f"{host.worker}|{cell.cell_id}"
    if slot is not None and not _try_slot(slot, slot_holder):
        leases.release(host.store, lease, requeue_after_s=host.settings.model_cap_defer_s, refund=True)
        log.info("cell_deferred_model_cap", limit=cell.policy.model_concurrency)
        return _outcome("deferred", cell.cell_id)
    try:
        return _run_admitted(cell, host, _Run(lease, attempt), slot, slot_holder)
    finally:
        if slot is not None:
            try:
                slot.release(slot_holder)
            except InfraError as e:
                log.warning("model_slot_release_failed", error=str(e)[:200])


def _try_slot(slot: RedisSemaphore, holder: str) -> bool:
    try:
        return slot.try_acquire(holder)
    except InfraError as e:
        log.warning("model_slot_unavailable", error=str(e)[:200])
        return False


def _model_slot(cell: CellSpec, host: WorkerHost) -> RedisSemaphore | None:
    """The cross-host slot of the cell's model when the sweep caps per-model concurrency; the
    watch renews it, so its lease only has to outlive a few missed renewals."""
    cap = cell.policy.model_concurrency
    if not cap:
        return None
    return RedisSemaphore(host.redis, f"model:{cell.model}", cap, lease_s=host.settings.lease_ttl_s)


def _budget_s(cell: CellSpec, host: WorkerHost) -> float:
    t = cell.task.timeouts
    return t.setup_s + t.agent_s + t.test_s + host.settings.deadline_grace_s


def _run_admitted(
    cell: CellSpec, host: WorkerHost, run: _Run, slot: RedisSemaphore | None, slot_holder: str
) -> dict[str, Any]:
    lease, attempt = run.lease, run.attempt
    if lease.took_over:  # the last holder froze or died: its containers here must not run on
        removed = host.ctx.sandbox.stop_cell(cell.cell_id)
        if removed:
            log.warning("stale_containers_removed", containers=removed)
    budget_s = _budget_s(cell, host)

    def keep_slot() -> None:
        if slot is not None and not slot.renew(slot_holder):
            slot.try_acquire(slot_holder)  # Redis came back empty: take it again if there is room

    def on_hung() -> None:
        with run.written:
            if run.stored:
                return
            hung = retries.unrun_result(cell, attempt, _host_name(host), retries.deadline_failure(budget_s))
            result = retries.settle(hung, lease.tries, host.settings.max_attempts)
            run.stored = leases.finish(
                host.store, lease, result, retry_in_s=_retry_in(result, lease, host), retire=True
            )

    watch = CellWatch(
        store=host.store,
        lease=lease,
        ttl_s=host.settings.lease_ttl_s,
        budget_s=budget_s,
        on_stop=lambda _reason: host.ctx.sandbox.stop_cell(cell.cell_id, attempt),
        on_hung=on_hung,
        hang_grace_s=min(host.settings.deadline_grace_s, 120.0),
        keep_slot=keep_slot if slot is not None else None,
    )

    def sink(result: CellResult) -> bool:
        if watch.reason in (StopReason.cancelled, StopReason.lease_taken, StopReason.store_unreachable):
            log.warning("cell_result_discarded", reason=watch.reason)
            return False
        if watch.reason == StopReason.deadline and result.failure.failure_class != FailureClass.none:
            result = result.model_copy(update={"failure": retries.deadline_failure(budget_s)})
        return _store(host, run, result)

    with watch:
        result = run_cell(cell, host.ctx, attempt=attempt, sink=sink)
    if not run.stored:
        if watch.reason != StopReason.lease_taken:
            _release(host, lease)
        return _outcome("stopped", cell.cell_id, attempt=attempt, reason=watch.reason or "not stored")
    return _outcome("stored", cell.cell_id, attempt=attempt, failure_class=result.failure.failure_class.value)


def _host_name(host: WorkerHost) -> str:
    return host.ctx.host or socket.gethostname()


def _retry_in(result: CellResult, lease: leases.Lease, host: WorkerHost) -> float | None:
    if result.is_final:
        return None
    return retries.backoff_s(lease.tries, host.settings.retry_backoff_s, host.settings.retry_backoff_max_s)


def _store(host: WorkerHost, run: _Run, result: CellResult) -> bool:
    """The fenced write, retried while the store is away (a restart); True when stored."""
    result = retries.settle(result, run.lease.tries, host.settings.max_attempts)
    try:
        host.store.check(result, f"write {result.identity.cell_id}")
    except CabError as e:
        log.error("cell_result_invalid", error=str(e)[:300])
        return False
    retry_in = _retry_in(result, run.lease, host)
    deadline = time.monotonic() + host.settings.write_retry_s
    while True:
        with run.written:
            if run.stored:
                return True
            try:
                run.stored = leases.finish(host.store, run.lease, result, retry_in_s=retry_in)
                if not run.stored:
                    log.warning("cell_result_discarded", reason="fence taken: another holder has the cell")
                return run.stored
            except CabError as e:
                if time.monotonic() >= deadline:
                    log.error("cell_result_lost", error=str(e)[:300])
                    return False
                log.warning("cell_result_write_retry", error=str(e)[:300])
        time.sleep(1.0)
