"""The dispatcher on a real Redis: batch-published messages are Celery's own, admission control,
the reconciler, the loop's pacing and its lease.

The broker is a non-persistent redis-server this module starts on a free port; the store is a
SQLite file per test. The worker test runs a real Celery worker (threads pool) in a subprocess and
reads the workers' events with Flower's own ``EventsState``.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from structlog.testing import capture_logs

from cab_core import keys
from cab_core.schema import Budget, CellSpec, FailureClass, SweepPolicy, SweepSpec
from cab_core.settings import BrokerSettings, DispatcherSettings
from cab_core.store import ResultStore, leases
from cab_core.store import planned as plan
from cab_scheduler.catalog import TaskCatalog
from cab_scheduler.celery_app import TASK_RUN_CELL, make_celery, queue_for
from cab_scheduler.dispatch import DISPATCHER_LEASE, Dispatcher
from cab_scheduler.fanout import cell_message, dispatch_once, reconcile
from cab_scheduler.publish import BatchPublisher, TaskCall
from cab_scheduler.sweep import expand
from tests.cab_core.store.factories import make_result
from tests.conftest import require

pytestmark = pytest.mark.redis

REPO = Path(__file__).resolve().parents[2]
CATALOG = TaskCatalog(REPO / "tasks")
TASK = "polyglot/python-semver-sort"
CPU = queue_for("cpu")
DISPATCH = DispatcherSettings()

WORKER_SCRIPT = """
import json, sys
from cab_core.settings import BrokerSettings
from cab_scheduler.celery_app import TASK_RUN_CELL, make_celery, queue_for

url, out = sys.argv[1], sys.argv[2]
app = make_celery(BrokerSettings(url=url))

@app.task(name=TASK_RUN_CELL, bind=True, ignore_result=True)
def run_cell(self, payload):
    row = {
        "task_id": self.request.id,
        "cell_id": payload["cell"]["cell_id"],
        "after_attempt": payload["after_attempt"],
        "args": list(self.request.args),
        "argsrepr": getattr(self.request, "argsrepr", None),
        "kwargsrepr": getattr(self.request, "kwargsrepr", None),
    }
    with open(out, "a") as fh:
        fh.write(json.dumps(row) + "\\n")

app.Worker(
    queues=[queue_for("cpu")], pool="threads", concurrency=2, hostname="dispatch-test@localhost",
    without_mingle=True, without_gossip=True, loglevel="INFO",
).start()
"""


# -- fixtures --------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(pred: Callable[[], Any], timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout_s:g} s waiting for {what}")


@pytest.fixture(scope="module")
def broker_url() -> Iterator[str]:
    """A non-persistent redis-server owned by this module, on a free loopback port."""
    exe = shutil.which("redis-server")
    require(exe is not None, "redis-server binary")
    assert exe is not None
    port = _free_port()
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    probe = redis.Redis.from_url(url)

    def up() -> bool:
        try:
            return bool(probe.ping())
        except redis.ConnectionError:
            return False

    try:
        _wait(up, 15, f"redis-server on {port}")
        yield url
    finally:
        probe.close()
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture
def client(broker_url: str) -> Iterator[redis.Redis]:
    c = redis.Redis.from_url(broker_url)
    c.flushdb()
    yield c
    c.flushdb()
    c.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ResultStore]:
    s = ResultStore(f"sqlite:///{tmp_path / 'cab.db'}")
    s.create_schema()
    yield s
    s.close()


def planned_sweep(store: ResultStore, sweep_id: str, n: int) -> list[CellSpec]:
    """Record an n-cell sweep (reference x scripted/noop x one task x n reruns)."""
    spec = SweepSpec(sweep_id=sweep_id, tuis=["reference"], models=["scripted/noop"], tasks=[TASK], reruns=n)
    cells = expand(spec, CATALOG, ["reference"])
    plan.record_plan(store, spec, cells)
    return cells


def stored(raw: bytes) -> dict[str, Any]:
    """A message as kombu's Redis transport stored it, with its body decoded."""
    message = json.loads(raw)
    message["body"] = json.loads(base64.b64decode(message["body"]))
    return message


# -- the batch publisher ---------------------------------------------------------------------------


@pytest.mark.parametrize("registered", [False, True], ids=["remote-task", "registered-task"])
def test_batch_message_is_exactly_what_send_task_stores(
    broker_url: str, client: redis.Redis, store: ResultStore, registered: bool
) -> None:
    app = make_celery(BrokerSettings(url=broker_url))
    if registered:  # as in `cab worker --dispatcher`: the task's options are merged by send_task

        @app.task(name=TASK_RUN_CELL, ignore_result=True)
        def run_cell(payload: dict) -> None: ...

    cell = planned_sweep(store, "exact", 1)[0]
    msg = cell_message(cell, after_attempt=2)
    app.send_task(TASK_RUN_CELL, queue=CPU, task_id="same-id", **msg)
    with capture_logs() as logs:
        BatchPublisher(app, TASK_RUN_CELL).publish(CPU, [TaskCall(**msg, task_id="same-id")])
    assert not [e for e in logs if e["event"] == "batch_publish_fallback"], "the batch path was taken"

    assert client.keys(f"{CPU}*") == [CPU.encode()], "both in the base list, no priority list"
    by_send_task, by_batch = (stored(client.rpop(CPU)) for _ in range(2))
    assert by_send_task["properties"].pop("delivery_tag") != by_batch["properties"].pop("delivery_tag")
    assert by_batch == by_send_task
    headers, props = by_batch["headers"], by_batch["properties"]
    assert headers["task"] == TASK_RUN_CELL and headers["id"] == "same-id" == props["correlation_id"]
    assert headers["argsrepr"] == repr((cell.cell_id,)) == props["argsrepr"]
    assert headers["kwargsrepr"] == msg["kwargsrepr"] == props["kwargsrepr"]
    assert props["delivery_info"] == {"exchange": "", "routing_key": CPU}
    assert (props["body_encoding"], props["priority"], props["delivery_mode"]) == ("base64", 0, 2)
    assert by_batch["content-type"] == "application/json"
    assert by_batch["body"] == [
        [],
        msg["kwargs"],
        {"callbacks": None, "errbacks": None, "chain": None, "chord": None},
    ]


def test_batch_falls_back_to_send_task_when_sent_events_are_on(broker_url: str, client: redis.Redis) -> None:
    app = make_celery(BrokerSettings(url=broker_url))
    app.conf.task_send_sent_event = True
    calls = [TaskCall(kwargs={"payload": {"i": i}}, argsrepr=f"({i},)", kwargsrepr="{}") for i in range(3)]
    publisher = BatchPublisher(app, TASK_RUN_CELL)
    with capture_logs() as logs:
        ids = publisher.publish(CPU, calls) + publisher.publish(CPU, calls)
    assert len(set(ids)) == 6 and client.llen(CPU) == 6
    fallbacks = [e for e in logs if e["event"] == "batch_publish_fallback"]
    assert len(fallbacks) == 1 and "task_send_sent_event" in fallbacks[0]["reason"], "logged once"


def test_sent_events_are_off_in_cabs_app() -> None:
    assert make_celery(BrokerSettings(url="redis://127.0.0.1:1/0")).conf.task_send_sent_event is False


def test_batch_published_cells_run_on_a_real_worker_and_show_in_flower(
    broker_url: str, client: redis.Redis, store: ResultStore, tmp_path: Path
) -> None:
    from flower.events import EventsState

    cells = planned_sweep(store, "live", 3)
    app = make_celery(BrokerSettings(url=broker_url))
    state, seen = EventsState(max_tasks_in_memory=100), []

    def on_event(event: dict) -> None:
        seen.append(event["type"])
        state.event(event)

    with app.connection_for_read() as conn:
        receiver = app.events.Receiver(conn, handlers={"*": on_event})
        listener = threading.Thread(target=receiver.capture, kwargs={"wakeup": False}, daemon=True)
        listener.start()
        script, out = tmp_path / "worker.py", tmp_path / "ran.jsonl"
        script.write_text(WORKER_SCRIPT)
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        with (tmp_path / "worker.log").open("wb") as log:
            worker = subprocess.Popen(
                [sys.executable, str(script), broker_url, str(out)],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            _wait(lambda: any(t.startswith("worker-") for t in seen), 60, "the worker's first event")
            report = dispatch_once("live", store=store, app=app, client=client, settings=DISPATCH)
            assert report.enqueued == 3
            rows = _wait(
                lambda: out.exists() and len(lines := out.read_text().splitlines()) == 3 and lines,
                60,
                "3 cells",
            )
            _wait(lambda: seen.count("task-succeeded") == 3, 30, "3 task-succeeded events")
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(timeout=10)
            receiver.should_stop = True
            listener.join(timeout=10)

    ran = {r["cell_id"]: r for r in map(json.loads, rows)}
    assert sorted(ran) == sorted(c.cell_id for c in cells)
    for cell in cells:
        row, msg = ran[cell.cell_id], cell_message(cell)
        assert (row["args"], row["after_attempt"]) == ([], 0)
        assert (row["argsrepr"], row["kwargsrepr"]) == (msg["argsrepr"], msg["kwargsrepr"])
        # Flower's view, built from the worker's events alone (no task-sent event was published)
        task = state.tasks[row["task_id"]]
        assert (task.name, task.state, task.args, task.kwargs) == (
            TASK_RUN_CELL,
            "SUCCESS",
            msg["argsrepr"],
            msg["kwargsrepr"],
        )
    assert "task-sent" not in seen and {"task-received", "task-started"} <= set(seen)
    assert client.llen(CPU) == 0


# -- admission control and the reconciler ---------------------------------------------------------


def test_admission_control_keeps_a_queue_at_max_queued(
    broker_url: str, client: redis.Redis, store: ResultStore
) -> None:
    planned_sweep(store, "adm", 12)
    app = make_celery(BrokerSettings(url=broker_url))

    def once() -> Any:
        return dispatch_once(
            "adm", store=store, app=app, client=client, settings=DispatcherSettings(max_queued=5)
        )

    first = once()
    assert (first.enqueued, first.pending, first.per_queue, first.more) == (5, 7, {CPU: 5}, False)
    assert client.llen(CPU) == 5 and client.scard(keys.queued("adm")) == 5
    assert once().enqueued == 0, "a full queue takes nothing"
    client.delete(CPU)  # the workers drained it
    second = once()
    assert (second.enqueued, second.pending) == (5, 2) and client.llen(CPU) == 5
    client.delete(CPU)
    assert plan.cancel(store, "adm") == 12
    cancelled = once()
    assert cancelled.enqueued == 0 and client.llen(CPU) == 0
    assert plan.pending_count(store, "adm") == 0 and plan.open_count(store, "adm") == 0


def test_a_round_that_filled_its_batch_asks_for_another(
    broker_url: str, client: redis.Redis, store: ResultStore
) -> None:
    planned_sweep(store, "more", 7)
    app = make_celery(BrokerSettings(url=broker_url))
    reports = [
        dispatch_once("more", store=store, app=app, client=client, settings=DispatcherSettings(batch=3))
        for _ in range(3)
    ]
    assert [(r.enqueued, r.more) for r in reports] == [(3, True), (3, True), (1, False)]
    assert client.llen(CPU) == 7


def test_reconcile_replans_only_cells_with_no_result_no_lease_and_not_queued(
    broker_url: str, client: redis.Redis, store: ResultStore
) -> None:
    done, leased, queued, lost = planned_sweep(store, "rec", 4)
    dispatch_once(
        "rec", store=store, app=make_celery(BrokerSettings(url=broker_url)), client=client, settings=DISPATCH
    )
    client.lpop(CPU)  # something is still in the queue: a queued cell is waiting, not lost
    # done, leased and lost were taken by workers (they leave the queued set when they start)
    client.srem(keys.queued("rec"), done.cell_id, leased.cell_id, lost.cell_id)
    result = make_result(sweep_id="rec", tui="reference", model="scripted/noop", task_id=TASK, run=done.run)
    assert result.identity.cell_id == done.cell_id
    store.upsert_result(result)
    assert isinstance(leases.acquire(store, leased.cell_id, "worker-a", 60), leases.Lease)
    suspects: set[str] = set()
    assert reconcile("rec", store=store, client=client, suspects=suspects) == [], "first seen: suspect"
    assert suspects == {lost.cell_id}
    assert reconcile("rec", store=store, client=client, suspects=suspects) == [lost.cell_id]
    assert [c.cell_id for c, _ in plan.pending(store, "rec", limit=10)] == [lost.cell_id]
    assert client.sismember(keys.queued("rec"), queued.cell_id)


def test_finding_2_a_cell_whose_queue_drained_is_replanned_even_if_still_marked_queued(
    broker_url: str, client: redis.Redis, store: ResultStore
) -> None:
    """A delivery dropped or acked without leaving ``cab:queued`` (an early store error, a duplicate
    whose first holder then died) must not stay "queued" forever: once the queue is empty, it is lost."""
    (cell,) = planned_sweep(store, "drained", 1)
    dispatch_once(
        "drained",
        store=store,
        app=make_celery(BrokerSettings(url=broker_url)),
        client=client,
        settings=DISPATCH,
    )
    client.delete(CPU)  # a worker took the message and ended without a result or a lease
    assert client.sismember(keys.queued("drained"), cell.cell_id)
    suspects: set[str] = set()
    reconcile("drained", store=store, client=client, suspects=suspects)
    assert reconcile("drained", store=store, client=client, suspects=suspects) == [cell.cell_id]
    assert plan.pending_count(store, "drained") == 1


def test_finding_3_a_retried_cell_whose_rerun_is_lost_is_replanned(
    broker_url: str, client: redis.Redis, store: ResultStore
) -> None:
    """`cab retry` of a final failure: the rerun's message is lost; the old final row must not hide it."""
    (cell,) = planned_sweep(store, "rerun", 1)
    failed = make_result(sweep_id="rerun", tui="reference", model="scripted/noop", task_id=TASK, run=cell.run)
    failed = failed.model_copy(
        update={"failure": failed.failure.model_copy(update={"failure_class": FailureClass.agent})}
    )
    store.upsert_result(failed)
    assert plan.retry(store, "rerun", {cell.cell_id: failed.identity.attempt}) == 1
    dispatch_once(
        "rerun",
        store=store,
        app=make_celery(BrokerSettings(url=broker_url)),
        client=client,
        settings=DISPATCH,
    )
    client.delete(CPU, keys.queued("rerun"))  # the rerun's message is gone
    assert reconcile("rerun", store=store, client=client) == [cell.cell_id]
    assert plan.open_count(store, "rerun") == 1


# -- the loop ---------------------------------------------------------------------------------------


def _run(dispatcher: Dispatcher) -> tuple[threading.Event, threading.Thread]:
    stop = threading.Event()
    thread = threading.Thread(target=dispatcher.run, args=(stop,), daemon=True)
    thread.start()
    return stop, thread


def test_dispatcher_does_not_wait_between_full_batches(
    broker_url: str, client: redis.Redis, store: ResultStore
) -> None:
    planned_sweep(store, "fast", 7)
    d = Dispatcher(
        store=store,
        app=make_celery(BrokerSettings(url=broker_url)),
        client=client,
        settings=DispatcherSettings(batch=3, interval_s=60),
    )
    stop, thread = _run(d)
    try:
        _wait(lambda: client.llen(CPU) == 7, 10, "all 7 cells in 3 back-to-back rounds (interval 60 s)")
    finally:
        stop.set()
        d.wake()
        thread.join(timeout=15)
    assert not thread.is_alive()


def test_dispatcher_releases_its_lease_on_stop(
    broker_url: str, client: redis.Redis, store: ResultStore
) -> None:
    app = make_celery(BrokerSettings(url=broker_url))
    first = Dispatcher(
        store=store, app=app, client=client, settings=DispatcherSettings(interval_s=0.05, lease_s=60)
    )
    stop, thread = _run(first)
    _wait(lambda: client.get(DISPATCHER_LEASE) == first.me.encode(), 10, "the first dispatcher's lease")
    standby = Dispatcher(
        store=store, app=app, client=client, settings=DispatcherSettings(interval_s=0.05, lease_s=60)
    )
    assert not standby.hold_lease(), "one active dispatcher"
    stop.set()
    first.wake()
    thread.join(timeout=15)
    assert not thread.is_alive() and client.get(DISPATCHER_LEASE) is None
    assert standby.hold_lease(), "a standby takes over at once, not after lease_s"


def test_release_never_deletes_another_dispatchers_lease(
    broker_url: str, client: redis.Redis, store: ResultStore
) -> None:
    d = Dispatcher(
        store=store, app=make_celery(BrokerSettings(url=broker_url)), client=client, settings=DISPATCH
    )
    client.set(DISPATCHER_LEASE, "dispatcher-other", px=60_000)
    assert not d.release_lease() and client.get(DISPATCHER_LEASE) == b"dispatcher-other"
    assert not d.hold_lease(), "nor renews it"
    assert 0 < client.pttl(DISPATCHER_LEASE) <= 60_000


# -- budgets ---------------------------------------------------------------------------------------


def test_a_spent_budget_stops_the_fan_out_and_says_why(
    broker_url: str, client: redis.Redis, store: ResultStore
) -> None:
    spec = SweepSpec(
        sweep_id="budgeted",
        tuis=["reference"],
        models=["scripted/noop"],
        tasks=[TASK],
        reruns=6,
        policy=SweepPolicy(budget=Budget(max_tokens=1000)),
    )
    cells = expand(spec, CATALOG, ["reference"])
    assert all(c.policy is spec.policy for c in cells)  # one record, not a copy per cell
    plan.record_plan(store, spec, cells)
    app = make_celery(BrokerSettings(url=broker_url))
    first = dispatch_once(
        "budgeted", store=store, app=app, client=client, settings=DispatcherSettings(max_queued=2)
    )
    assert first.enqueued == 2 and first.budget_spent is None
    done = make_result(sweep_id="budgeted", tui="reference", model="scripted/noop", task_id=TASK)
    assert done.axes is not None and (done.axes.tokens.total_tokens or 0) >= 1000
    store.upsert_result(done)
    client.delete(CPU)  # the two queued cells were taken by workers
    second = dispatch_once(
        "budgeted", store=store, app=app, client=client, settings=DispatcherSettings(max_queued=2)
    )
    assert second.enqueued == 0 and second.budget_spent and "token budget spent" in second.budget_spent
    assert client.llen(CPU) == 0 and plan.pending_count(store, "budgeted") == 4


# -- faults ------------------------------------------------------------------------------------------


def test_finding_4_a_redis_that_restarts_empty_loses_no_sweep(
    broker_url: str, client: redis.Redis, store: ResultStore
) -> None:
    """Sweeps were listed only in Redis: an empty restart left every sweep unvisited. The store
    lists them now, and the leader re-plans what Redis lost at once (``cab:epoch`` is gone)."""
    planned_sweep(store, "empty", 3)
    d = Dispatcher(
        store=store, app=make_celery(BrokerSettings(url=broker_url)), client=client, settings=DISPATCH
    )
    assert d.hold_lease()
    assert [r.enqueued for r in d.round()] == [3] and client.llen(CPU) == 3
    client.flushall()  # what a Redis without persistence holds after a restart
    assert d.hold_lease()
    reports = d.round()
    assert [r.sweep_id for r in reports] == ["empty"] and reports[0].enqueued == 3
    assert client.llen(CPU) == 3 and client.scard(keys.queued("empty")) == 3


@pytest.mark.postgres
def test_the_dispatcher_keeps_its_lease_through_a_round_longer_than_the_lease(
    broker_url: str, client: redis.Redis, pg_url: str
) -> None:
    """A round that outlasted the lease let a standby lead too (two dispatchers at once). A table lock
    held by another session makes the round wait 3 s, six times the lease."""
    from sqlalchemy import text

    pg = ResultStore(pg_url)
    pg.create_schema()
    planned_sweep(pg, "slow", 2)
    app = make_celery(BrokerSettings(url=broker_url))
    leader = Dispatcher(
        store=pg, app=app, client=client, settings=DispatcherSettings(interval_s=0.05, lease_s=0.5)
    )
    assert leader.hold_lease()
    stop, thread = _run(leader)
    standby = Dispatcher(store=pg, app=app, client=client, settings=DispatcherSettings(lease_s=0.5))
    try:
        with pg.engine.connect() as locker, locker.begin():
            locker.execute(text("LOCK TABLE sweeps IN ACCESS EXCLUSIVE MODE"))
            for _ in range(30):
                assert not standby.hold_lease(), "the standby led while the leader's round was stuck"
                threading.Event().wait(0.1)
        _wait(lambda: client.llen(CPU) == 2, 10, "the leader's round to finish")
    finally:
        stop.set()
        leader.wake()
        thread.join(timeout=15)
        pg.close()
