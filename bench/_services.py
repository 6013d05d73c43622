"""Test-owned services for the distributed benches: a private redis-server and a throwaway database.

Both are context managers that clean up what they created, and nothing else:

    with private_redis(6397) as redis_url, scratch_database(PG_ADMIN_URL, "dispatch") as store_url:
        ...

``private_redis`` starts ``redis-server`` on a loopback port nobody else uses (it refuses a busy port
instead of borrowing someone's Redis) and stops that one process at the end. ``scratch_database``
creates ``cab_bench_<purpose>_<random>`` on the PostgreSQL server and drops it at the end.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import redis
from sqlalchemy.engine import make_url

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
"""Where the scratch databases are created (trust auth on loopback)."""

REDIS_START_TIMEOUT_S = 10.0


def _port_busy(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def private_redis(port: int) -> Iterator[str]:
    """A fresh, empty, non-persistent redis-server on 127.0.0.1:``port``; yields its URL."""
    exe = shutil.which("redis-server")
    if exe is None:
        raise SystemExit("redis-server not found on PATH")
    if _port_busy(port):
        raise SystemExit(
            f"port {port} is already in use; stop that server or pick another --redis-port "
            "(the bench only uses a redis-server it started itself)"
        )
    proc = subprocess.Popen(
        [
            exe,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--loglevel",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + REDIS_START_TIMEOUT_S
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit(f"redis-server on port {port} did not start") from None
                time.sleep(0.05)
        client.close()
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _libpq(url: str) -> str:
    """A SQLAlchemy URL as a libpq connection string for psycopg."""
    u = make_url(url)
    parts = [
        f"host={u.host or '127.0.0.1'}",
        f"port={u.port or 5432}",
        f"user={u.username or 'postgres'}",
        f"dbname={u.database or 'postgres'}",
    ]
    if u.password:
        parts.append(f"password={u.password}")
    return " ".join(parts)


@contextmanager
def scratch_database(admin_url: str, purpose: str) -> Iterator[str]:
    """A new empty PostgreSQL database, dropped (with its connections) at the end; yields its URL."""
    name = f"cab_bench_{purpose}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_libpq(admin_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_libpq(admin_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_connection_budget(admin_url: str) -> tuple[int, int]:
    """(max_connections, connections in use now) of the PostgreSQL server."""
    with psycopg.connect(_libpq(admin_url), autocommit=True) as conn:
        max_conn = int(conn.execute("SHOW max_connections").fetchone()[0])  # type: ignore[index]
        used = int(conn.execute("SELECT count(*) FROM pg_stat_activity").fetchone()[0])  # type: ignore[index]
    return max_conn, used


def pct(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100), as numpy's default."""
    xs = sorted(values)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)
