"""compose.yaml for real: the stack comes up under its own project name and ports, runs a sweep
submitted from the host into its own PostgreSQL, keeps Flower behind basic auth, and `down -v`
leaves nothing behind.

Redis and PostgreSQL are the official images in production; where no registry is reachable this test
builds the stand-ins in ``tests/deploy/images`` FROM the cab base image (tagged by content, so built
once per machine) and points ``CAB_REDIS_IMAGE`` / ``CAB_POSTGRES_IMAGE`` at them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from cab_core.schema import CellResult, FailureClass
from cab_core.store import ResultStore
from tests.conftest import free_port, require, wait_for
from tests.deploy.files import COMPOSE, REPO

pytestmark = [pytest.mark.docker, pytest.mark.slow]

STANDINS = Path(__file__).resolve().parent / "images"
CAB = str(Path(sys.executable).parent / "cab")
AUTH = ("admin", "compose-test-password")
TASK = "polyglot/python-semver-sort"


def _standin(sandbox, base_tag: str, name: str) -> str:  # noqa: ANN001 - cab_workers.host.sandbox.Sandbox
    """``cab-test/<name>:<hash>`` built from tests/deploy/images/<name> on ``base_tag`` if missing."""
    folder = STANDINS / name
    h = hashlib.sha256(base_tag.encode())
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    tag = f"cab-test/{name}:{h.hexdigest()[:12]}"
    if sandbox.image_id(tag) is None:
        sandbox.client.images.build(
            path=str(folder), tag=tag, buildargs={"BASE": base_tag}, rm=True, forcerm=True
        )
    return tag


@pytest.fixture(scope="module")
def stack_images(sandbox, images) -> dict[str, str]:  # noqa: ANN001
    """Content tags of the worker image and both stand-ins (a rerun builds nothing)."""
    from cab_workers.host.images import ImageBuilder

    ca = os.environ.get("CAB_CA_BUNDLE") or "/etc/ssl/certs/ca-certificates.crt"
    builder = ImageBuilder(
        sandbox,
        REPO / "images",
        tasks_dir=REPO / "tasks",
        ca_bundle=Path(ca) if Path(ca).is_file() else None,
    )
    worker = builder.ensure(["worker"])[-1].tag
    return {
        "CAB_WORKER_IMAGE": worker,
        "CAB_REDIS_IMAGE": _standin(sandbox, images["base"], "redis"),
        "CAB_POSTGRES_IMAGE": _standin(sandbox, images["base"], "postgres"),
    }


@dataclass
class Stack:
    project: str
    env: dict[str, str]
    broker_url: str
    store_url: str
    flower_url: str

    def compose(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["docker-compose", "-p", self.project, "-f", str(COMPOSE), *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def logs(self) -> str:
        return self.compose("logs", "--no-color", "--tail", "60", timeout=60).stdout


@pytest.fixture
def stack(sandbox, stack_images: dict[str, str], tmp_path: Path) -> Iterator[Stack]:  # noqa: ANN001
    require(shutil.which("docker-compose") is not None, "docker-compose")
    ports = {name: free_port() for name in ("CAB_REDIS_PORT", "CAB_POSTGRES_PORT", "CAB_FLOWER_PORT")}
    password = uuid.uuid4().hex
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CAB_", "COMPOSE_"))}
    env = {
        **clean,
        **stack_images,
        **{k: str(v) for k, v in ports.items()},
        "CAB_FLOWER_BASIC_AUTH": ":".join(AUTH),
        "CAB_POSTGRES_PASSWORD": password,
        "CAB_WORKER_HOME": str(tmp_path / "worker-home"),
    }
    s = Stack(
        project=f"cabtest{uuid.uuid4().hex[:10]}",
        env=env,
        broker_url=f"redis://127.0.0.1:{ports['CAB_REDIS_PORT']}/0",
        store_url=f"postgresql+psycopg://cab:{password}@127.0.0.1:{ports['CAB_POSTGRES_PORT']}/cab",
        flower_url=f"http://127.0.0.1:{ports['CAB_FLOWER_PORT']}/",
    )
    missing = [tag for tag in stack_images.values() if sandbox.image_id(tag) is None]
    assert missing == [], f"docker-compose v1 ignores pull_policy and would pull {missing}"
    try:
        up = s.compose("up", "-d")
        assert up.returncode == 0, up.stderr + s.logs()
        yield s
    finally:
        down = s.compose("down", "-v", "--remove-orphans", "-t", "60")
        label = {"label": f"com.docker.compose.project={s.project}"}
        left = [c.name for c in sandbox.client.containers.list(all=True, filters=label)]
        volumes = [v.name for v in sandbox.client.volumes.list(filters=label)]
        assert down.returncode == 0, down.stderr
        assert left == [] and volumes == [], f"left behind: {left} {volumes}"


def _flower_status(url: str, auth: tuple[str, str] | None) -> int | None:
    try:
        return httpx.get(url, auth=auth, timeout=5).status_code
    except httpx.TransportError:
        return None


def test_stack_runs_a_sweep_into_its_postgres_and_guards_flower(stack: Stack, tmp_path: Path) -> None:
    sweep = tmp_path / "compose.yaml"
    sweep.write_text(
        f"sweep_id: compose\ntuis: [reference]\nmodels: [scripted/oracle]\ntasks: [{TASK}]\n"
        "timeouts: {agent_s: 60, test_s: 120, setup_s: 30}\n"
    )
    host_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CAB_")},
        "CAB_BROKER_URL": stack.broker_url,
        "CAB_STORE_URL": stack.store_url,
        "CAB_HOME": str(tmp_path / "cli-home"),
    }
    submitted = subprocess.run(
        [CAB, "submit", str(sweep)], cwd=REPO, env=host_env, capture_output=True, text=True, timeout=120
    )
    assert submitted.returncode == 0, submitted.stdout + submitted.stderr + stack.logs()

    store = ResultStore(stack.store_url)
    try:

        def final() -> CellResult | None:
            found = [r for r in store.latest_by_cell("compose").values() if r.is_final]
            return found[0] if found else None

        deadline = time.monotonic() + 240
        result = None
        while result is None and time.monotonic() < deadline:
            result = final()
            time.sleep(2)
        assert result is not None, "no final result within 240 s\n" + stack.logs()
    finally:
        store.close()
    assert result.identity.task_id == TASK
    assert result.failure.failure_class == FailureClass.none, result.failure
    assert result.axes is not None and result.axes.pass_rate.passed == 1

    wait_for(lambda: _flower_status(stack.flower_url, None), 90, "Flower to answer")
    assert _flower_status(stack.flower_url, None) == 401
    assert _flower_status(stack.flower_url, ("admin", "wrong")) == 401
    assert _flower_status(stack.flower_url, AUTH) == 200
