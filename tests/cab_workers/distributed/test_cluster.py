"""Distributed mode end to end: real Redis, real `cab worker` / `cab dispatcher` processes, real
containers, PostgreSQL as the result store."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cab_core.schema import CellResult, FailureClass
from cab_core.store.tables import cells
from tests.cab_workers.distributed.conftest import Cluster, agent_containers, wait_for

pytestmark = [pytest.mark.docker, pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

PY, JS = "polyglot/python-semver-sort", "polyglot/js-query-string"


def sweep(tmp_path: Path, sweep_id: str, models: list[str], tasks: list[str], extra: str = "") -> Path:
    path = tmp_path / f"{sweep_id}.yaml"
    path.write_text(
        f"sweep_id: {sweep_id}\ntuis: [reference]\nmodels: {models}\ntasks: {tasks}\n"
        f"timeouts: {{agent_s: 60, test_s: 120, setup_s: 30}}\n{extra}"
    )
    return path


def rows_per_cell(c: Cluster, sweep_id: str) -> dict[str, int]:
    query = (
        select(cells.c.cell_id, func.count()).where(cells.c.sweep_id == sweep_id).group_by(cells.c.cell_id)
    )
    with c.store.engine.connect() as conn:
        return {r[0]: r[1] for r in conn.execute(query)}


def test_cells_run_only_on_hosts_whose_tags_match(cluster_factory, tmp_path: Path) -> None:  # noqa: ANN001
    c = cluster_factory()
    c.dispatcher()
    c.worker("w-cpu", "cpu")
    c.worker("w-large", "cpu.large")
    spec = sweep(tmp_path, "tags", ["scripted/oracle"], [PY, JS], 'requires: {"polyglot/js-*": cpu.large}\n')
    submitted = c.cab("submit", str(spec))
    assert submitted.returncode == 0, submitted.stderr
    assert "1 cpu" in submitted.stdout and "1 cpu.large" in submitted.stdout
    final = c.wait_final("tags", 2)
    by_task = {r.identity.task_id: r for r in final.values()}
    assert by_task[PY].identity.host == "w-cpu"
    assert by_task[JS].identity.host == "w-large"
    assert all(r.axes and r.axes.pass_rate.passed == 1 for r in final.values())

    status = c.cab("status", "tags")
    assert status.returncode == 0 and "2/2" in status.stdout

    # retry: an infra failure that gave up (not retryable, so the automatic retries leave it alone)
    # injected as the latest attempt is rerun by `cab retry`, once, as the next attempt
    victim = by_task[PY]
    infra = victim.model_copy(
        update={
            "identity": victim.identity.model_copy(update={"attempt": victim.identity.attempt + 1}),
            "failure": victim.failure.model_copy(
                update={"failure_class": FailureClass.infra, "reason": "test", "retryable": False}
            ),
        }
    )
    assert infra.is_final
    c.store.upsert_result(infra)
    retried = c.cab("retry", "tags", "--failed", "infra")
    assert retried.returncode == 0 and "retrying 1 infra" in retried.stdout, retried.stderr

    def rerun() -> CellResult | None:
        latest = c.store.get(victim.identity.cell_id)
        # the injected record is final itself: only a later attempt is the retry's
        return latest if latest and latest.identity.attempt > infra.identity.attempt else None

    again = wait_for(rerun, 120, "the retry")
    assert isinstance(again, CellResult) and again.is_final
    assert again.identity.attempt == infra.identity.attempt + 1
    assert again.failure.failure_class == FailureClass.none


def test_kill_9_mid_cell_completes_elsewhere_once_and_leaves_no_orphan(
    cluster_factory,
    sandbox,  # noqa: ANN001
    tmp_path: Path,
) -> None:
    c = cluster_factory()
    c.dispatcher()
    c.worker("w-a", "cpu")
    c.worker("w-b", "cpu")
    assert c.cab("submit", str(sweep(tmp_path, "kill", ["scripted/slow"], [PY]))).returncode == 0
    cell_id = f"kill/reference/scripted/slow/{PY}"
    (name, victim), *_ = wait_for(lambda: agent_containers(sandbox, cell_id), 120, "the agent container")
    survivor = "w-b" if victim == "w-a" else "w-a"
    c.kill9(victim)

    final = c.wait_final("kill", 1)
    result = final[cell_id]
    assert result.identity.host == survivor
    assert result.failure.failure_class == FailureClass.none and result.axes and result.axes.pass_rate.passed
    assert rows_per_cell(c, "kill") == {cell_id: 1}, "exactly one result row for the cell"
    wait_for(
        lambda: not [n for n, w in agent_containers(sandbox, cell_id) if w == victim],
        60,
        "the reaper to remove the killed worker's container",
    )


def test_duplicate_delivery_never_runs_the_agent_twice_at_once(
    cluster_factory, sandbox, tmp_path: Path
) -> None:  # noqa: ANN001
    """With a 5 s visibility timeout, Redis redelivers the 8 s cell while it runs; the lease holds."""
    c = cluster_factory(CAB_VISIBILITY_TIMEOUT_S="5")
    c.dispatcher()
    c.worker("w-a", "cpu")
    c.worker("w-b", "cpu")
    from cab_core.store import planned
    from cab_scheduler.catalog import TaskCatalog
    from cab_scheduler.sweep import expand, load_sweep

    spec = load_sweep(sweep(tmp_path, "dup", ["scripted/slow"], [PY]))
    planned.record_plan(c.store, spec, expand(spec, TaskCatalog(Path("tasks").resolve()), ["reference"]))
    c.broker.client().publish(
        "cab:wake", "dup"
    )  # the budget check of `cab submit` would refuse a 5 s timeout

    cell_id = f"dup/reference/scripted/slow/{PY}"
    most_at_once = 0
    stop = threading.Event()

    def watch() -> None:
        nonlocal most_at_once
        while not stop.is_set():
            running = [n for n, _ in agent_containers(sandbox, cell_id)]
            most_at_once = max(most_at_once, len(running))
            stop.wait(0.1)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        c.wait_final("dup", 1)
    finally:
        stop.set()
        watcher.join(timeout=5)
    logs = c.log("w-a") + c.log("w-b")
    assert "cell_dropped" in logs, "a duplicate was delivered (and dropped: held elsewhere or already final)"
    assert most_at_once == 1
    assert rows_per_cell(c, "dup") == {cell_id: 1}


def test_redis_restart_mid_sweep_loses_nothing(cluster_factory, tmp_path: Path) -> None:  # noqa: ANN001
    c = cluster_factory()
    c.dispatcher()
    c.worker("w-a", "cpu")
    c.worker("w-b", "cpu")
    spec = sweep(tmp_path, "restart", ["scripted/oracle", "scripted/noop"], [PY, JS])
    assert c.cab("submit", str(spec)).returncode == 0
    wait_for(lambda: c.results("restart"), 120, "the first result")
    c.broker.stop()
    c.broker.start()
    final = c.wait_final("restart", 4)
    assert len(final) == 4
    assert set(rows_per_cell(c, "restart").values()) <= {1, 2}
    assert all(r.failure.failure_class == FailureClass.none for r in final.values())


def test_cancel_stops_running_cells_and_dispatches_nothing_more(
    cluster_factory, sandbox, tmp_path: Path
) -> None:  # noqa: ANN001
    c = cluster_factory()
    c.dispatcher()
    c.worker("w-a", "cpu")
    spec = sweep(tmp_path, "cancel", ["scripted/hang"], [PY, JS, "polyglot/go-lru-eviction"])
    assert c.cab("submit", str(spec)).returncode == 0
    first = f"cancel/reference/scripted/hang/{PY}"
    wait_for(lambda: agent_containers(sandbox, first), 120, "a hanging agent")
    done = c.cab("cancel", "cancel")
    assert done.returncode == 0, done.stderr
    wait_for(
        lambda: (
            not any(
                agent_containers(sandbox, f"cancel/reference/scripted/hang/{t}")
                for t in (PY, JS, "polyglot/go-lru-eviction")
            )
        ),
        60,
        "cancelled cells to stop",
    )
    status = c.cab("status", "cancel")
    assert "cancelled" in status.stdout
    assert c.results("cancel") == {}, "cancelled cells store no result"


def test_model_concurrency_cap_holds_across_slots(cluster_factory, sandbox, tmp_path: Path) -> None:  # noqa: ANN001
    """Two slots free, but the sweep allows one `scripted/slow` cell at a time: they run one by one."""
    c = cluster_factory()
    c.dispatcher()
    c.worker("w-a", "cpu", slots=2)
    spec = sweep(tmp_path, "cap", ["scripted/slow"], [PY, JS], "model_concurrency: 1\n")
    assert c.cab("submit", str(spec)).returncode == 0
    most = 0
    stop = threading.Event()

    def watch() -> None:
        nonlocal most
        while not stop.is_set():
            running = agent_containers(sandbox, f"cap/reference/scripted/slow/{PY}") + agent_containers(
                sandbox, f"cap/reference/scripted/slow/{JS}"
            )
            most = max(most, len(running))
            stop.wait(0.1)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        final = c.wait_final("cap", 2)
    finally:
        stop.set()
        watcher.join(timeout=5)
    assert most == 1
    assert all(r.axes and r.axes.pass_rate.passed for r in final.values())


def _most_agents_at_once(sandbox, cell_ids: list[str], stop: threading.Event, seen: dict[str, int]) -> None:  # noqa: ANN001
    while not stop.is_set():
        for cell_id in cell_ids:
            seen[cell_id] = max(seen.get(cell_id, 0), len(agent_containers(sandbox, cell_id)))
        stop.wait(0.1)


def final_rows_per_cell(c: Cluster, sweep_id: str) -> dict[str, int]:
    query = (
        select(cells.c.cell_id, func.count())
        .where(cells.c.sweep_id == sweep_id, cells.c.final.is_(True))
        .group_by(cells.c.cell_id)
    )
    with c.store.engine.connect() as conn:
        return {r[0]: r[1] for r in conn.execute(query)}


def test_finding_7_a_ten_second_redis_outage_mid_cell_runs_it_once(
    cluster_factory, sandbox, tmp_path: Path
) -> None:  # noqa: ANN001
    """A Redis outage used to kill the lease heartbeat while the cell ran on: the lease expired and a
    second worker ran the same cell at the same time."""
    c = cluster_factory()
    c.dispatcher()
    c.worker("w-a", "cpu")
    c.worker("w-b", "cpu")
    spec = tmp_path / "outage.yaml"  # an agent that waits for an answer that never comes: 25 s
    spec.write_text(
        f"sweep_id: outage\ntuis: [reference]\nmodels: [scripted/hang]\ntasks: [{PY}]\n"
        "timeouts: {agent_s: 25, test_s: 120, setup_s: 30}\n"
    )
    assert c.cab("submit", str(spec)).returncode == 0
    cell_id = f"outage/reference/scripted/hang/{PY}"
    (_, holder), *_ = wait_for(lambda: agent_containers(sandbox, cell_id), 120, "the agent container")
    seen: dict[str, int] = {}
    stop = threading.Event()
    watcher = threading.Thread(
        target=_most_agents_at_once, args=(sandbox, [cell_id], stop, seen), daemon=True
    )
    watcher.start()
    try:
        c.broker.stop()
        threading.Event().wait(10)  # the outage itself: longer than two lease TTLs (4 s)
        c.broker.start()
        final = c.wait_final("outage", 1)
    finally:
        stop.set()
        watcher.join(timeout=5)
    assert seen[cell_id] == 1, "never two agent containers of the cell at once"
    assert rows_per_cell(c, "outage") == {cell_id: 1}
    assert final[cell_id].identity.host == holder, "the first holder kept the cell"


def test_finding_4_a_redis_restart_that_keeps_nothing_still_finishes_the_sweep(
    cluster_factory, tmp_path: Path
) -> None:  # noqa: ANN001
    c = cluster_factory()
    c.dispatcher()
    c.worker("w-a", "cpu")
    c.worker("w-b", "cpu")
    spec = sweep(tmp_path, "wiped", ["scripted/oracle", "scripted/noop"], [PY, JS], "reruns: 2\n")
    assert c.cab("submit", str(spec)).returncode == 0
    wait_for(lambda: c.results("wiped"), 120, "the first result")
    c.broker.stop()
    for f in c.broker.dir.rglob("*"):
        if f.is_file():
            f.unlink()  # what a Redis without persistence comes back with: nothing
    c.broker.start()
    final = c.wait_final("wiped", 8)
    assert len(final) == 8
    assert set(final_rows_per_cell(c, "wiped").values()) == {1}, "one final row per cell"
    status = c.cab("status", "wiped")
    assert status.returncode == 0 and "8/8" in status.stdout and "finished" in status.stdout, status.stdout


def test_finding_5_infra_failures_are_retried_with_backoff_and_the_sweep_ends(
    cluster_factory, tmp_path: Path
) -> None:  # noqa: ANN001
    """A stored infra failure was never retried: the sweep never finished and `cab status --watch`
    never exited. Now it is retried up to CAB_MAX_ATTEMPTS tries, then final."""
    c = cluster_factory(CAB_RETRY_BACKOFF_S="1", CAB_MAX_ATTEMPTS="3")
    c.dispatcher()
    c.worker("w-a", "cpu")
    assert c.cab("submit", str(sweep(tmp_path, "flaky", ["scripted/badproto"], [PY]))).returncode == 0
    watched = c.cab("status", "flaky", "--watch", "--interval-s", "0.5", timeout=300)
    assert watched.returncode == 0, watched.stderr
    cell_id = f"flaky/reference/scripted/badproto/{PY}"
    attempts = c.store.get(cell_id)
    assert attempts is not None and attempts.is_final and attempts.failure.failure_class == FailureClass.infra
    assert "gave up after 3 tries" in attempts.failure.reason
    assert rows_per_cell(c, "flaky") == {cell_id: 3}, "three tries, each stored"
    assert "1 cell ended as infra failures after 3 tries" in watched.stdout
