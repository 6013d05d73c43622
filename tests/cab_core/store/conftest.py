"""Store fixtures: every store test runs against SQLite (unit) and PostgreSQL (postgres).

PostgreSQL tests use a fresh schema per test, dropped afterwards, so parallel runs never collide.
An unreachable server skips them locally and fails them in CI (``CI=true``).
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import create_engine, text

from cab_core.store import ResultStore

PG_URL = os.environ.get("CAB_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


@functools.cache
def _pg_unreachable() -> str | None:
    dsn = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        psycopg.connect(dsn, connect_timeout=3).close()
    except psycopg.Error as error:
        return " ".join(str(error).split())
    return None


def require_postgres() -> None:
    """Skip (locally) or fail (CI) when the PostgreSQL test server cannot be reached."""
    reason = _pg_unreachable()
    if reason is None:
        return
    message = f"PostgreSQL unreachable at {PG_URL}: {reason}"
    if _in_ci():
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.unit),
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[ResultStore]:
    """A ResultStore with its tables created, on each backend."""
    if request.param == "sqlite":
        s = ResultStore(f"sqlite:///{tmp_path / 'cab.db'}")
        s.create_schema()
        yield s
        s.close()
        return
    require_postgres()
    schema = f"cab_test_{uuid.uuid4().hex[:12]}"
    s = ResultStore(PG_URL, schema=schema)
    s.create_schema()
    try:
        yield s
    finally:
        s.close()
        admin = create_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
