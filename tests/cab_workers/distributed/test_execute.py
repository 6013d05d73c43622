"""execute_cell's guards with a real Redis and store, up to the point where the pipeline would start.

Tests named ``test_finding_N_*`` are the regression tests of issue 13's numbered findings.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import structlog

from cab_core import keys
from cab_core.errors import InfraError
from cab_core.schema import CellSpec, FailureClass
from cab_core.semaphore import RedisSemaphore
from cab_core.settings import WorkerSettings
from cab_core.store import ResultStore, leases
from cab_core.store import planned as plan
from cab_scheduler.catalog import TaskCatalog
from cab_scheduler.sweep import expand, load_sweep
from cab_workers.distributed.execute import WorkerHost, execute_cell
from tests.cab_workers.distributed.conftest import RedisServer, wait_for
from tests.conftest import free_port

pytestmark = pytest.mark.redis

REPO = Path(__file__).resolve().parents[3]


class PipelineReached(BaseException):
    """Raised by the context when a delivery gets as far as running the pipeline."""


class _NoPipeline:
    """A host context whose use means the pipeline started."""

    host = "test-host"

    def __getattr__(self, name: str) -> object:
        raise PipelineReached(name)


def sweep_cells(tmp_path: Path, sweep_id: str = "guard", extra: str = "") -> tuple[object, list[CellSpec]]:
    spec = tmp_path / f"{sweep_id}.yaml"
    spec.write_text(
        f"sweep_id: {sweep_id}\ntuis: [reference]\nmodels: [scripted/oracle]\n"
        f"tasks: [polyglot/python-semver-sort]\n{extra}"
    )
    loaded = load_sweep(spec)
    return loaded, expand(loaded, TaskCatalog(REPO / "tasks"), ["reference"])


@pytest.fixture
def store(tmp_path: Path) -> ResultStore:
    s = ResultStore(f"sqlite:///{tmp_path / 'r.db'}")
    s.create_schema()
    return s


@pytest.fixture
def cell(tmp_path: Path, store: ResultStore) -> CellSpec:
    spec, cells = sweep_cells(tmp_path)
    plan.record_plan(store, spec, cells)  # type: ignore[arg-type]
    return cells[0]


def host_for(server: RedisServer, store: ResultStore, **kw: object) -> WorkerHost:
    return WorkerHost(
        ctx=_NoPipeline(),  # type: ignore[arg-type]  # a stand-in HostContext: the pipeline is not run
        store=store,
        redis=server.client(),
        worker="w-test",
        settings=WorkerSettings.model_validate({"lease_ttl_s": 2, **kw}),
    )


def payload(cell: CellSpec) -> dict[str, object]:
    return {"cell": cell.model_dump(mode="json")}


def burn_tries(store: ResultStore, cell: CellSpec, n: int) -> None:
    """n deliveries that started the cell and died without a result."""
    for i in range(n):
        got = leases.acquire(store, cell.cell_id, f"dead-{i}", 60)
        assert isinstance(got, leases.Lease)
        assert leases.release(store, got)


def test_poison_after_max_tries_is_final_and_not_run(
    redis_server: RedisServer, store: ResultStore, cell
) -> None:  # noqa: ANN001
    burn_tries(store, cell, 3)
    outcome = execute_cell(payload(cell), host_for(redis_server, store, max_attempts=3))
    assert outcome["status"] == "poison"
    stored = store.get(cell.cell_id)
    assert stored is not None and stored.is_final
    assert stored.failure.failure_class == FailureClass.infra and not stored.failure.retryable
    assert stored.failure.reason.startswith("poison")
    assert plan.cell_states(store, cell.sweep_id)[cell.cell_id].running is False, "the lease is released"
    again = execute_cell(payload(cell), host_for(redis_server, store))
    assert again["status"] == "already_final"


def test_finding_8_retry_reruns_a_poison_cell_with_a_fresh_budget_of_tries(
    redis_server: RedisServer, store: ResultStore, cell
) -> None:  # noqa: ANN001
    burn_tries(store, cell, 3)
    assert execute_cell(payload(cell), host_for(redis_server, store, max_attempts=3))["status"] == "poison"
    poisoned = store.get(cell.cell_id)
    assert poisoned is not None
    assert plan.retry(store, cell.sweep_id, {cell.cell_id: poisoned.identity.attempt}) == 1
    with pytest.raises(PipelineReached):
        execute_cell(payload(cell), host_for(redis_server, store, max_attempts=3))
    assert plan.cell_states(store, cell.sweep_id)[cell.cell_id].tries == 1, "the poison budget started again"


def test_finding_8_retry_resets_only_the_cells_it_reruns(
    redis_server: RedisServer, store: ResultStore, tmp_path: Path
) -> None:
    spec, cells = sweep_cells(tmp_path, "two", "reruns: 2\n")
    plan.record_plan(store, spec, cells)  # type: ignore[arg-type]
    for c in cells:
        burn_tries(store, c, 2)
    assert plan.retry(store, "two", {cells[0].cell_id: 0}) == 1
    states = plan.cell_states(store, "two")
    assert (states[cells[0].cell_id].tries, states[cells[1].cell_id].tries) == (0, 2)


def test_cancelled_cell_is_dropped(redis_server: RedisServer, store: ResultStore, cell) -> None:  # noqa: ANN001
    client = redis_server.client()
    client.sadd(keys.queued(cell.sweep_id), cell.cell_id)
    plan.cancel(store, cell.sweep_id)
    outcome = execute_cell(payload(cell), host_for(redis_server, store))
    assert outcome["status"] == "cancelled"
    assert not client.sismember(keys.queued(cell.sweep_id), cell.cell_id)
    assert store.get(cell.cell_id) is None


def test_a_live_holder_makes_a_duplicate_drop_at_once(
    redis_server: RedisServer, store: ResultStore, cell
) -> None:  # noqa: ANN001
    holder = leases.acquire(store, cell.cell_id, "elsewhere", 30)
    assert isinstance(holder, leases.Lease)
    outcome = execute_cell(payload(cell), host_for(redis_server, store))
    assert outcome["status"] == "duplicate" and outcome["holder"] == "elsewhere"
    assert leases.renew(store, holder, 30).held, "the holder keeps its lease"


def test_finding_1_a_store_error_before_the_lease_leaves_the_cell_to_the_reconciler(
    redis_server: RedisServer, cell
) -> None:  # noqa: ANN001
    """PostgreSQL unreachable at the start of a delivery: the task fails (Celery acks it), so the
    cell must not stay in ``cab:queued``, where the reconciler would take it for queued forever."""
    client = redis_server.client()
    client.sadd(keys.queued(cell.sweep_id), cell.cell_id)
    down = ResultStore(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none?connect_timeout=2")
    with pytest.raises(InfraError):
        execute_cell(payload(cell), host_for(redis_server, down))
    assert not client.sismember(keys.queued(cell.sweep_id), cell.cell_id)


def test_finding_1_a_message_that_does_not_validate_runs_the_planned_spec(
    redis_server: RedisServer, store: ResultStore, cell
) -> None:  # noqa: ANN001
    broken = cell.model_dump(mode="json")
    broken["task"] = {"slug": "damaged"}
    with pytest.raises(PipelineReached):
        execute_cell({"cell": broken}, host_for(redis_server, store))


def test_deferred_by_the_model_cap_goes_back_to_the_plan_without_spending_a_try(
    redis_server: RedisServer, store: ResultStore, tmp_path: Path
) -> None:
    spec, cells = sweep_cells(tmp_path, "capped", "model_concurrency: 1\n")
    plan.record_plan(store, spec, cells)  # type: ignore[arg-type]
    (cell,) = cells
    full = RedisSemaphore(redis_server.client(), f"model:{cell.model}", 1, lease_s=60)
    assert full.try_acquire("someone-else")
    outcome = execute_cell(payload(cell), host_for(redis_server, store, model_cap_defer_s=30))
    assert outcome["status"] == "deferred"
    state = plan.cell_states(store, "capped")[cell.cell_id]
    assert (state.tries, state.enqueued, state.running) == (0, False, False)
    assert state.waiting_s is not None and state.waiting_s > 20, "offered again only after model_cap_defer_s"


def test_no_attempt_stays_bound_on_the_pool_thread_after_a_delivery(
    redis_server: RedisServer, store: ResultStore, cell
) -> None:  # noqa: ANN001
    burn_tries(store, cell, 3)
    structlog.contextvars.clear_contextvars()
    execute_cell(payload(cell), host_for(redis_server, store, max_attempts=3))  # binds attempt=4
    assert structlog.contextvars.get_contextvars() == {}, "the next delivery on this thread logs no stale ids"


class _HungDocker:
    """A host context whose first engine call never returns (until ``released``), as a hung Docker
    daemon makes every call of the pipeline hang."""

    host = "test-host"

    def __init__(self) -> None:
        self.released = threading.Event()
        self.sandbox = self

    def stop_cell(self, *_args: object) -> list[str]:
        return []

    def __getattr__(self, name: str) -> object:
        self.released.wait()
        raise PipelineReached(name)


def test_finding_6_a_hung_cell_is_recorded_and_given_up_by_cabs_watchdog(
    redis_server: RedisServer, store: ResultStore, tmp_path: Path
) -> None:
    """With the threads pool Celery's time limits never fire: a hung cell held its lease forever and
    its redelivery was dropped as a duplicate. cab's watch stops it at its budget, then stores an
    infra failure (retried later) and bumps the fence so the hung thread can write nothing after."""
    spec, cells = sweep_cells(tmp_path, "hung", "timeouts: {agent_s: 1, test_s: 1, setup_s: 1}\n")
    plan.record_plan(store, spec, cells)  # type: ignore[arg-type]
    (cell,) = cells
    ctx = _HungDocker()
    host = WorkerHost(
        ctx=ctx,  # type: ignore[arg-type]  # a stand-in HostContext whose sandbox hangs
        store=store,
        redis=redis_server.client(),
        worker="w",
        settings=WorkerSettings(lease_ttl_s=1.5, deadline_grace_s=1),
    )
    outcome: list[object] = []
    runner = threading.Thread(target=lambda: outcome.append(_run(cell, host)), daemon=True)
    runner.start()
    stored = wait_for(lambda: store.get(cell.cell_id), 30, "the watchdog's record of the hung cell")
    assert stored.failure.failure_class == FailureClass.infra and not stored.is_final  # type: ignore[union-attr]
    assert "outlived its budget" in stored.failure.reason  # type: ignore[union-attr]
    state = plan.cell_states(store, "hung")[cell.cell_id]
    assert not state.running and not state.enqueued, "back to the plan for an automatic retry"
    again = leases.acquire(store, cell.cell_id, "other", 30)
    assert isinstance(again, leases.Lease) and again.fence == 3, "the hung holder's fence was retired"
    ctx.released.set()
    runner.join(timeout=10)
    assert outcome and outcome[0] == "ended", "the hung thread ended without writing"
    assert store.get(cell.cell_id) == stored


def _run(cell: CellSpec, host: WorkerHost) -> str:
    try:
        execute_cell(payload(cell), host)
    except PipelineReached:
        pass
    return "ended"
