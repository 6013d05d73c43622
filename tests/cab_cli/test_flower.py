"""`cab flower` as an operator runs it: real Redis, PostgreSQL, worker, Flower and a headless browser.

The end-to-end module fixture starts a test-owned redis-server (port 6396), a fresh PostgreSQL
database, ``cab worker --tags cpu --dispatcher`` and ``cab flower`` as subprocesses, submits a
two-cell sweep and waits (polling, with deadlines) until both cells are stored and Flower has seen
them succeed. The tests then look at Flower's REST API and its /tasks page.
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from cab_cli.flower_cmd import AUTH_ENV, BasicAuth, flower_argv, parse_basic_auth
from cab_core.errors import CabError
from cab_endpoint import ScriptedEndpoint
from cab_scheduler.celery_app import TASK_RUN_CELL
from tests.conftest import free_port, fresh_database, require

REPO = Path(__file__).resolve().parents[2]
CAB = str(Path(sys.executable).parent / "cab")
REDIS_PORT = 6396
USER, PASSWORD = "operator", f"pw-{uuid.uuid4().hex}"
ENDPOINT_KEY, KEY_ENV = f"sk-flower-{uuid.uuid4().hex}", "CAB_TEST_ENDPOINT_KEY"
"""The cells run against a keyed endpoint; the key is in the worker's environment only."""
MODELS = ("scripted/oracle", "scripted/noop")
TASK = "polyglot/python-semver-sort"


def wait_for(what: str, probe: Callable[[], Any], *, timeout_s: float, every_s: float = 0.5) -> Any:
    """Poll ``probe`` until it returns something truthy; fail with ``what`` at the deadline."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(every_s)
    pytest.fail(f"timed out after {timeout_s:.0f} s waiting for {what} (last probe: {last!r:.300})")


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def base_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAB_", "FLOWER_"))}
    env.update({"COLUMNS": "200", **extra})
    return env


def stop(proc: subprocess.Popen, *, timeout_s: float = 60) -> int:
    """SIGTERM, wait, and only then SIGKILL; returns the exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    return int(proc.returncode)


def drain(worker: subprocess.Popen, env: dict[str, str], *, timeout_s: float = 120) -> tuple[int, int]:
    """`cab worker --drain`, reaping the worker meanwhile; returns (worker, drain) exit codes.

    The drainer polls the worker's pid until it is gone, and a child that exited stays a zombie
    (its pid still alive) until its parent, this test, waits for it.
    """
    drainer = subprocess.Popen(
        [CAB, "worker", "--drain"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        worker_rc = int(worker.wait(timeout_s))
    except subprocess.TimeoutExpired:
        worker_rc = stop(worker, timeout_s=10)
    try:
        drain_rc = int(drainer.wait(30))
    except subprocess.TimeoutExpired:
        drain_rc = stop(drainer, timeout_s=10)
    return worker_rc, drain_rc


# --- the command's own checks (no services) ----------------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize("raw", ["", "nocolon", ":pw", "user:", "us er:pw", "user:a,b"])
def test_bad_credentials_are_refused_without_echoing_them(raw: str) -> None:
    with pytest.raises(CabError) as e:
        parse_basic_auth(raw)
    assert AUTH_ENV in str(e.value)
    if raw.partition(":")[2]:
        assert raw.partition(":")[2] not in str(e.value)


@pytest.mark.unit
def test_credentials_never_show_in_repr_and_colons_stay_in_the_password() -> None:
    auth = parse_basic_auth("alice:se:cret")
    assert auth == BasicAuth("alice", "se:cret")
    assert "se:cret" not in repr(auth) and "se:cret" not in str(auth)
    argv = flower_argv(port=1, address="127.0.0.1", auth=auth, purge_offline_workers_s=60)
    assert argv[0] == "flower" and "--basic_auth=alice:se:cret" in argv and "--persistent=False" in argv


@pytest.mark.unit
def test_flower_without_credentials_refuses_in_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [CAB, "flower", "--port", str(free_port())],
        env=base_env(CAB_HOME=str(tmp_path / "home")),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert AUTH_ENV in lines[0] and "--no-auth" in lines[0]


# --- end to end ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A redis-server this module owns on port 6396, stopped (and its data gone) afterwards."""
    binary = shutil.which("redis-server")
    require(binary is not None, "redis-server")
    assert binary is not None
    if port_open(REDIS_PORT):
        pytest.fail(f"port {REDIS_PORT} is already in use; this test owns its redis-server there")
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [binary, "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for("redis-server to accept connections", lambda: port_open(REDIS_PORT), timeout_s=20)
        yield f"redis://127.0.0.1:{REDIS_PORT}/0"
    finally:
        stop(proc, timeout_s=20)


@pytest.fixture(scope="module")
def pg_store_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this module, dropped afterwards."""
    with fresh_database("cab_flower") as url:
        yield url


@dataclass
class Cluster:
    url: str
    sweep_id: str
    cell_ids: set[str]
    worker_name: str
    logs: list[Path]
    home: Path
    store_url: str
    bodies: list[str] = field(default_factory=list)

    def get(self, path: str, *, auth: bool = True) -> httpx.Response:
        """GET from Flower; every body is kept so the secret check sees all of them."""
        response = httpx.get(self.url + path, auth=(USER, PASSWORD) if auth else None, timeout=15)
        self.bodies.append(response.text)
        return response


def _finished_cells(store_url: str, sweep_id: str, *, want: int) -> set[str]:
    """The sweep's stored cell ids once there are ``want`` of them, else an empty set."""
    from cab_core.store import ResultStore

    with ResultStore(store_url) as store:
        cells = set(store.latest_by_cell(sweep_id))
    return cells if len(cells) == want else set()


@pytest.fixture(scope="module")
def cluster(
    images, sandbox, redis_url: str, pg_store_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("flower")
    home = root / "home"
    sweep_id = f"fl-{uuid.uuid4().hex[:6]}"
    sweep = root / "sweep.yaml"
    endpoint = ScriptedEndpoint(REPO / "tasks", api_key=ENDPOINT_KEY).start()
    sweep.write_text(
        f"sweep_id: {sweep_id}\ntuis: [reference]\nmodels: [{', '.join(MODELS)}]\ntasks: [{TASK}]\n"
        f"slots: 2\nendpoint: {endpoint.url}\napi_key_env: {KEY_ENV}\n"
        "timeouts: {agent_s: 30, test_s: 120, setup_s: 30}\n"
    )
    env = base_env(CAB_HOME=str(home), CAB_BROKER_URL=redis_url, CAB_STORE_URL=pg_store_url)
    # FLOWER_UNAUTHENTICATED_API must be ignored: `cab flower` removes it before Flower starts.
    flower_env = {**env, AUTH_ENV: f"{USER}:{PASSWORD}", "FLOWER_UNAUTHENTICATED_API": "true"}
    port = free_port()
    logs = [root / "worker.log", root / "flower.log"]
    with logs[0].open("wb") as worker_log, logs[1].open("wb") as flower_log:
        worker = subprocess.Popen(
            [CAB, "worker", "--tags", "cpu", "--dispatcher", "--slots", "2"],
            cwd=REPO,
            env={**env, KEY_ENV: ENDPOINT_KEY},
            stdout=worker_log,
            stderr=subprocess.STDOUT,
        )
        flower = subprocess.Popen(
            [CAB, "flower", "--port", str(port)],
            cwd=REPO,
            env=flower_env,
            stdout=flower_log,
            stderr=subprocess.STDOUT,
        )
        worker_name = f"cab-cpu-{worker.pid}@{socket.gethostname()}"
        try:
            c = Cluster(f"http://127.0.0.1:{port}", sweep_id, set(), worker_name, logs, home, pg_store_url)
            wait_for("flower to listen", lambda: flower.poll() is None and port_open(port), timeout_s=60)
            wait_for(
                "flower to see the worker",
                lambda: worker_name in c.get("/api/workers?refresh=1").json(),
                timeout_s=90,
                every_s=1,
            )
            done = subprocess.run(
                [CAB, "submit", str(sweep)], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
            )
            assert done.returncode == 0, done.stderr
            c.cell_ids = wait_for(
                "both cells stored",
                lambda: _finished_cells(pg_store_url, sweep_id, want=2),
                timeout_s=400,
                every_s=1,
            )

            def flower_saw_both() -> bool:
                tasks = c.get(f"/api/tasks?taskname={TASK_RUN_CELL}").json().values()
                ours = [t for t in tasks if sweep_id in (t.get("args") or "")]
                return len(ours) == 2 and all(t["state"] == "SUCCESS" for t in ours)

            wait_for("flower to see both cells succeed", flower_saw_both, timeout_s=60)
            yield c
        finally:
            flower_rc = stop(flower, timeout_s=30)
            worker_rc, drained = drain(worker, env)
            from cab_workers.host.sandbox import LABEL_WORKER

            left = sandbox.client.containers.list(
                all=True, filters={"label": [f"{LABEL_WORKER}={worker_name}"]}
            )
            for container in left:
                container.remove(force=True)
            endpoint.stop()
    assert flower_rc == 0, f"flower exited {flower_rc}: {logs[1].read_text()[-2000:]}"
    assert drained == 0 and worker_rc == 0, (
        f"drain {drained}, worker {worker_rc}: {logs[0].read_text()[-2000:]}"
    )
    assert not left, f"cab containers left behind by {worker_name}: {[x.name for x in left]}"


@pytest.mark.docker
@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.slow
def test_api_refuses_requests_without_credentials(cluster: Cluster) -> None:
    for path in ("/api/workers", "/api/tasks", "/tasks", "/"):
        assert cluster.get(path, auth=False).status_code == 401, path
    wrong = httpx.get(cluster.url + "/api/workers", auth=(USER, "wrong"), timeout=15)
    assert wrong.status_code == 401


@pytest.mark.docker
@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.slow
def test_api_lists_the_worker(cluster: Cluster) -> None:
    response = cluster.get("/api/workers?refresh=1")
    assert response.status_code == 200
    workers = response.json()
    assert cluster.worker_name in workers
    assert TASK_RUN_CELL in workers[cluster.worker_name]["registered"]


@pytest.mark.docker
@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.slow
def test_api_tasks_show_each_cell_readably(cluster: Cluster) -> None:
    response = cluster.get("/api/tasks")
    assert response.status_code == 200
    ours = [t for t in response.json().values() if cluster.sweep_id in (t.get("args") or "")]
    assert {t["name"] for t in ours} == {TASK_RUN_CELL}
    assert {t["args"] for t in ours} == {repr((cell_id,)) for cell_id in cluster.cell_ids}
    for model in MODELS:
        (task,) = [t for t in ours if f"/{model}/" in t["args"]]
        for key, value in (
            ("sweep", cluster.sweep_id),
            ("tui", "reference"),
            ("model", model),
            ("task", TASK),
        ):
            assert f"{key!r}: {value!r}" in task["kwargs"]
        assert task["state"] == "SUCCESS"


@dataclass
class ArtifactReport:
    """Prints artifact paths in pytest's terminal summary, whether or not output is captured."""

    lines: list[str] = field(default_factory=list)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.lines:
            terminalreporter.section("cab artifacts")
            for line in self.lines:
                terminalreporter.write_line(line)


def artifact_dir() -> Path:
    """$CAB_ARTIFACTS, or <repo>/.artifacts (which ignores itself in git)."""
    configured = os.environ.get("CAB_ARTIFACTS")
    target = Path(configured) if configured else REPO / ".artifacts"
    target.mkdir(parents=True, exist_ok=True)
    if not configured and not (target / ".gitignore").exists():
        (target / ".gitignore").write_text("*\n")
    return target


def screenshot(chromium: str, url: str, out: Path, profile: Path) -> None:
    """Headless Chromium; basic-auth credentials in the URL carry over to the page's XHRs."""
    done = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--window-size=1600,1000",
            "--virtual-time-budget=10000",  # let the tasks table's XHR land before the capture
            f"--screenshot={out}",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.docker
@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.slow
def test_tasks_page_screenshot(
    cluster: Cluster, tmp_path: Path, request: pytest.FixtureRequest, record_property: Any
) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    require(chromium is not None, "Chromium")
    assert chromium is not None
    authed = cluster.url.replace("http://", f"http://{USER}:{PASSWORD}@")
    oracle_task = next(
        uuid_
        for uuid_, t in cluster.get("/api/tasks").json().items()
        if cluster.sweep_id in t["args"] and "/scripted/oracle/" in t["args"]
    )
    shots = {"flower-tasks.png": "/tasks", "flower-task.png": f"/task/{oracle_task}"}
    report = request.config.pluginmanager.get_plugin("cab-artifacts")
    if report is None:
        report = ArtifactReport()
        request.config.pluginmanager.register(report, "cab-artifacts")
    for name, path in shots.items():
        out = tmp_path / name
        screenshot(chromium, authed + path, out, tmp_path / "chromium-profile")
        assert out.exists() and out.stat().st_size > 20_000, f"{name} is missing or blank"
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        kept = artifact_dir() / name
        shutil.copyfile(out, kept)
        record_property(name, str(kept))
        report.lines.append(f"flower screenshot ({path.split('/')[1]} page): {kept}")
    assert cluster.get("/tasks").status_code == 200


@pytest.mark.docker
@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.slow
def test_neither_the_password_nor_the_endpoint_key_ever_leaks(cluster: Cluster) -> None:
    for path in ("/api/workers?refresh=1", "/api/tasks", "/tasks", "/workers", "/broker", "/"):
        cluster.get(path)
    for task_id in cluster.get("/api/tasks").json():
        cluster.get(f"/api/task/info/{task_id}")
        cluster.get(f"/task/{task_id}")
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert len(cluster.bodies) > 8
    for body in cluster.bodies:
        assert PASSWORD not in body and token not in body and ENDPOINT_KEY not in body
    for log in cluster.logs:
        text = log.read_text(errors="replace")
        assert PASSWORD not in text and ENDPOINT_KEY not in text, log.name
    files = [p for p in cluster.home.rglob("*") if p.is_file()]
    assert files and not [p for p in files if ENDPOINT_KEY.encode() in p.read_bytes()]
    from cab_core.store import ResultStore

    with ResultStore(cluster.store_url) as store:  # the record, every table, and the kept exchanges
        with store.engine.connect() as conn:
            dump = "".join(
                str(row)
                for table in ("cells", "spans", "model_calls", "planned", "sweeps")
                for row in conn.exec_driver_sql(f"SELECT * FROM {table}")
            )
        exchanges = [ex for cell in cluster.cell_ids for ex in store.exchanges(cell, 1)]
    assert cluster.sweep_id in dump and ENDPOINT_KEY not in dump
    assert exchanges and all(ENDPOINT_KEY.encode() not in e.request_body + e.response_body for e in exchanges)


@pytest.mark.redis
def test_no_auth_warns_and_keeps_the_api_closed_even_if_flower_is_told_to_open_it(
    redis_url: str, tmp_path: Path
) -> None:
    port = free_port()
    env = base_env(
        CAB_HOME=str(tmp_path / "home"), CAB_BROKER_URL=redis_url, FLOWER_UNAUTHENTICATED_API="true"
    )
    log = tmp_path / "flower.log"
    with log.open("wb") as out:
        flower = subprocess.Popen(
            [CAB, "flower", "--port", str(port), "--no-auth"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            wait_for("flower to listen", lambda: flower.poll() is None and port_open(port), timeout_s=60)
            api = httpx.get(f"http://127.0.0.1:{port}/api/workers", timeout=15)
            assert api.status_code == 401
            assert "Access-Control-Allow-Origin" not in api.headers
        finally:
            rc = stop(flower, timeout_s=30)
    assert rc == 0
    assert "WARNING: Flower runs WITHOUT authentication" in log.read_text()
