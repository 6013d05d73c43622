"""A real little cluster for distributed tests: a test-owned redis-server, a PostgreSQL database,
`cab dispatcher` and `cab worker` subprocesses, each worker with its own CAB_HOME."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cab_core.schema import CellResult
from cab_core.store import ResultStore
from tests.conftest import RedisServer, require, wait_for  # noqa: F401 - re-exported for the tests here

REPO = Path(__file__).resolve().parents[3]
CAB = str(Path(sys.executable).parent / "cab")


class Cluster:
    """Processes of one distributed test; everything is stopped at teardown."""

    def __init__(self, root: Path, broker: RedisServer, store_url: str, **env: str) -> None:
        self.root, self.broker, self.store_url = root, broker, store_url
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CAB_")}
        self.env.update(
            {
                "CAB_BROKER_URL": broker.url,
                "CAB_STORE_URL": store_url,
                "CAB_LEASE_TTL_S": "4",
                "CAB_RECONCILE_EVERY_S": "2",
                "CAB_REAP_EVERY_S": "2",
                "CAB_RESTORE_INTERVAL_S": "1",
                "CAB_VISIBILITY_SLACK_S": "0",
                "CAB_VISIBILITY_TIMEOUT_S": "600",
                "COLUMNS": "200",
                **env,
            }
        )
        self.procs: dict[str, subprocess.Popen] = {}
        self._logs: list = []
        from cab_core.settings import BrokerSettings
        from cab_scheduler.celery_app import make_celery

        self.app = make_celery(BrokerSettings(url=broker.url))
        self.store = ResultStore(store_url)
        self.store.create_schema()

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        home = self.root / f"home-{name}"
        log = (self.root / f"{name}.log").open("w")
        self._logs.append(log)
        proc = subprocess.Popen(
            [CAB, *args],
            cwd=REPO,
            env={**self.env, "CAB_HOME": str(home)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs[name] = proc
        return proc

    def dispatcher(self) -> subprocess.Popen:
        return self._spawn("dispatcher", ["dispatcher"])

    def worker(self, name: str, tags: str, slots: int = 1) -> subprocess.Popen:
        proc = self._spawn(name, ["worker", "--tags", tags, "--slots", str(slots), "--name", name])
        app = self.app

        def answered() -> bool:
            replies = app.control.ping(timeout=0.5)
            return proc.poll() is not None or any(name in key for reply in replies for key in reply)

        wait_for(answered, 120, f"worker {name} to answer ping")
        assert proc.poll() is None, self.log(name)
        return proc

    def log(self, name: str) -> str:
        """A process's console output plus its structlog JSON lines (INFO and up)."""
        events = self.root / f"home-{name}" / "logs" / "cab.log"
        return (self.root / f"{name}.log").read_text() + (events.read_text() if events.exists() else "")

    def cab(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            [CAB, *args],
            cwd=REPO,
            env={**self.env, "CAB_HOME": str(self.root / "home-cli")},
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def results(self, sweep_id: str) -> dict[str, CellResult]:
        return self.store.latest_by_cell(sweep_id)

    def wait_final(self, sweep_id: str, n: int, timeout_s: float = 240) -> dict[str, CellResult]:
        def done() -> dict[str, CellResult] | None:
            final = {c: r for c, r in self.results(sweep_id).items() if r.is_final}
            return final if len(final) >= n else None

        return wait_for(done, timeout_s, f"{n} final results of {sweep_id}", poll_s=0.5)  # type: ignore[return-value]

    def kill9(self, name: str) -> None:
        proc = self.procs[name]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def close(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                with_suppress_killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                with_suppress_killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        self.store.close()
        self.app.close()
        for log in self._logs:
            log.close()


def with_suppress_killpg(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


@pytest.fixture
def cluster_factory(
    tmp_path: Path,
    redis_server: RedisServer,
    pg_url: str,
    images,  # noqa: ANN001
    sandbox,
) -> Iterator[Callable[..., Cluster]]:
    made: list[Cluster] = []

    def make(**env: str) -> Cluster:
        c = Cluster(tmp_path, redis_server, pg_url, **env)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()
        for name in c.procs:  # a killed worker's containers, if a test failed before the reaper ran
            for container in sandbox.client.containers.list(
                all=True, filters={"label": f"cab.worker={name}"}
            ):
                sandbox.remove(container.name)


def agent_containers(sandbox, cell_id: str) -> list[tuple[str, str]]:  # noqa: ANN001
    """(name, worker label) of the agent containers of a cell on this host."""
    # one listing call: the SDK's containers.list inspects each container and races their removal
    found = sandbox.client.api.containers(
        all=True, filters={"label": [f"cab.cell_id={cell_id}", "cab.role=agent"]}
    )
    return [(c["Names"][0].lstrip("/"), (c.get("Labels") or {}).get("cab.worker", "")) for c in found]
