"""execute_cell's guards with a real Redis and store, before any container is involved."""

from __future__ import annotations

from pathlib import Path

import pytest

from cab_core import keys
from cab_core.schema import FailureClass
from cab_core.store import ResultStore
from cab_scheduler.catalog import TaskCatalog
from cab_scheduler.sweep import expand, load_sweep
from cab_workers.distributed.execute import WorkerHost, execute_cell
from tests.cab_workers.distributed.conftest import RedisServer

pytestmark = pytest.mark.redis

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def cell(tmp_path: Path):  # noqa: ANN201
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "sweep_id: guard\ntuis: [reference]\nmodels: [scripted/oracle]\n"
        "tasks: [polyglot/python-semver-sort]\n"
    )
    return expand(load_sweep(spec), TaskCatalog(REPO / "tasks"), ["reference"])[0]


class _NoContext:
    """Reaching the pipeline would be a bug in these tests."""

    host = "test-host"

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"the pipeline must not run (touched {name})")


def host_for(server: RedisServer, store: ResultStore, **kw: object) -> WorkerHost:
    return WorkerHost(
        ctx=_NoContext(), store=store, redis=server.client(), worker="w-test", lease_ttl_s=2, **kw
    )  # type: ignore[arg-type]


def test_poison_after_max_deliveries_is_final_and_not_run(
    redis_server: RedisServer, tmp_path: Path, cell
) -> None:  # noqa: ANN001
    store = ResultStore(f"sqlite:///{tmp_path / 'r.db'}")
    store.create_schema()
    redis_server.client().set(keys.attempts(cell.cell_id), 3)
    outcome = execute_cell(
        {"cell": cell.model_dump(mode="json")}, host_for(redis_server, store, max_attempts=3)
    )
    assert outcome["status"] == "poison"
    stored = store.get(cell.cell_id)
    assert stored is not None and stored.is_final
    assert stored.failure.failure_class == FailureClass.infra and not stored.failure.retryable
    assert stored.failure.reason.startswith("poison")
    assert not redis_server.client().exists(keys.lease(cell.cell_id)), "the lease is released"
    again = execute_cell({"cell": cell.model_dump(mode="json")}, host_for(redis_server, store))
    assert again["status"] == "already_final"
    store.close()


def test_cancelled_sweep_drops_the_cell(redis_server: RedisServer, tmp_path: Path, cell) -> None:  # noqa: ANN001
    store = ResultStore(f"sqlite:///{tmp_path / 'r.db'}")
    store.create_schema()
    client = redis_server.client()
    client.set(keys.cancel(cell.sweep_id), "1")
    client.sadd(keys.queued(cell.sweep_id), cell.cell_id)
    outcome = execute_cell({"cell": cell.model_dump(mode="json")}, host_for(redis_server, store))
    assert outcome["status"] == "cancelled"
    assert not client.sismember(keys.queued(cell.sweep_id), cell.cell_id)
    assert store.get(cell.cell_id) is None
    store.close()


def test_a_live_holder_makes_a_duplicate_drop(redis_server: RedisServer, tmp_path: Path, cell) -> None:  # noqa: ANN001
    from cab_workers.distributed.lease import CellLease

    store = ResultStore(f"sqlite:///{tmp_path / 'r.db'}")
    store.create_schema()
    holder = CellLease(redis_server.client(), cell.cell_id, holder="elsewhere", ttl_s=30)
    assert holder.try_acquire()
    outcome = execute_cell({"cell": cell.model_dump(mode="json")}, host_for(redis_server, store))
    assert outcome["status"] == "duplicate" and "elsewhere" in outcome["holder"]
    assert holder.still_held()
    store.close()
