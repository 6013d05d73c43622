"""Shared fixtures. Services are real: a missing one skips locally and fails in CI (CI=true)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from cab_core.settings import Settings

REPO = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(ok: bool, what: str) -> None:
    """Skip when a service is missing locally; in CI a missing service is a failure."""
    if ok:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI but unavailable")
    pytest.skip(f"{what} unavailable")


@pytest.fixture
def cab_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings isolated under a fresh CAB_HOME."""
    home = tmp_path / "cab-home"
    monkeypatch.setenv("CAB_HOME", str(home))
    monkeypatch.delenv("CAB_STORE_URL", raising=False)
    return Settings(home=home)


@pytest.fixture(scope="session")
def sandbox():  # noqa: ANN201 - cab_workers.sandbox.Sandbox
    from cab_core.errors import CabError
    from cab_workers.sandbox import Sandbox

    try:
        sb = Sandbox()
        ok = sb.ping()
    except CabError:
        ok = False
    require(ok, "Docker engine")
    return sb


@pytest.fixture(scope="session")
def images(sandbox) -> dict[str, str]:  # noqa: ANN001
    """cab's images, built if missing (content-addressed, so normally a no-op)."""
    from cab_workers.images import ImageBuilder

    ca = os.environ.get("CAB_CA_BUNDLE") or "/etc/ssl/certs/ca-certificates.crt"
    builder = ImageBuilder(sandbox, REPO / "images", ca_bundle=Path(ca) if Path(ca).is_file() else None)
    return {ref.name: ref.tag for ref in builder.ensure()}


@pytest.fixture
def no_leftover_containers(sandbox) -> Iterator[None]:  # noqa: ANN001
    """Asserts the test left no cab container of this process behind."""
    yield
    from cab_workers.sandbox import LABEL_OWNER_PID

    mine = [
        c.name
        for c in sandbox.client.containers.list(
            all=True, filters={"label": [f"{LABEL_OWNER_PID}={os.getpid()}"]}
        )
    ]
    assert mine == [], f"containers left behind: {mine}"


# --- test-owned services ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(predicate: Callable[[], object], timeout_s: float, what: str, poll_s: float = 0.2) -> object:
    """Poll until ``predicate`` is truthy; fail the test with ``what`` on timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll_s)
    pytest.fail(f"timed out after {timeout_s}s waiting for {what}")


class RedisServer:
    """A redis-server this test owns (AOF on, so a restart keeps the queue)."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.dir = root / f"redis-{self.port}"
        self.dir.mkdir(parents=True)
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.dir),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
                "--maxmemory-policy",
                "noeviction",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self.ping, 15, f"redis-server on {self.port}")

    def ping(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=5, socket_connect_timeout=2)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # redis flushes the AOF on SIGTERM
            self.proc.wait(timeout=20)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    import shutil

    require(shutil.which("redis-server") is not None, "redis-server binary")
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def fresh_database(prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database on the local server, dropped afterwards (its URL)."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(
            "postgresql://postgres@127.0.0.1:5432/test", autocommit=True, connect_timeout=3
        )
    except psycopg.OperationalError:
        require(False, "PostgreSQL")
        raise
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def pg_url() -> Iterator[str]:
    with fresh_database("cab_test") as url:
        yield url
