"""Test-owned services for the distributed benches and tests: servers this process starts, breaks and stops.

Nothing here borrows a server somebody else runs. Two server classes, each bound to one loopback port
and one directory, that the chaos bench and the tests restart, freeze or crash on purpose::

    RedisServer(root)      redis-server; AOF on (``persist``) so a restart can keep the queue;
                           restart(keep=False) comes back empty, unreachable(s) freezes it (SIGSTOP)
    PgServer()             a PostgreSQL cluster of its own (initdb as the ``postgres`` OS user into a
                           temp dir, trust auth, pg_ctl); stop(mode="fast" | "immediate"), restart()

and two context managers for the benches that only need a service to be there::

    with private_redis(6397) as redis_url, scratch_database(PG_ADMIN_URL, "dispatch") as store_url:
        ...

``private_redis`` starts a non-persistent ``RedisServer`` on a port nobody else uses (it refuses a busy
port instead of borrowing someone's Redis). ``scratch_database`` creates ``cab_bench_<purpose>_<random>``
on a PostgreSQL server and drops it at the end.

The tests import these classes through ``tests/conftest.py`` (fixtures ``redis_server``, ``pg_server``).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Literal

import psycopg
import redis
from sqlalchemy.engine import make_url

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
"""Where the scratch databases are created (trust auth on loopback)."""

REDIS_START_TIMEOUT_S = 15.0
PG_START_TIMEOUT_S = 60.0
PG_USER = "postgres"
"""OS user that owns a ``PgServer``'s cluster when this process is root (initdb refuses root)."""


class ServiceError(RuntimeError):
    """Raised when a test-owned server does not start, answer or stop in time."""


def free_port() -> int:
    """A loopback TCP port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_busy(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait(predicate: Callable[[], bool], timeout_s: float, what: str, poll_s: float = 0.05) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise ServiceError(f"timed out after {timeout_s:g}s waiting for {what}")
        time.sleep(poll_s)


# -- Redis -----------------------------------------------------------------------------------------


class RedisServer:
    """A redis-server this process owns, on 127.0.0.1:``port``, with its files under ``root``.

    ``persist`` turns AOF on (fsync always) so ``restart(keep=True)`` and a plain stop/start keep the
    queue; without it the server is empty after every start.
    """

    def __init__(self, root: Path, *, port: int | None = None, persist: bool = True) -> None:
        self.port = port or free_port()
        self.persist = persist
        self.dir = root / f"redis-{self.port}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            raise ServiceError("redis-server not found on PATH")
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if self.persist else []
        self.proc = subprocess.Popen(
            [exe, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir), "--save", ""]
            + (persistence or ["--appendonly", "no"])
            + ["--maxmemory-policy", "noeviction", "--loglevel", "warning", "--daemonize", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        proc = self.proc
        _wait(lambda: self.ping() or proc.poll() is not None, REDIS_START_TIMEOUT_S, f"redis on {self.port}")
        if proc.poll() is not None:
            raise ServiceError(f"redis-server on port {self.port} exited with {proc.returncode}")

    def ping(self) -> bool:
        try:
            with self.client() as c:
                return bool(c.ping())
        except redis.RedisError:
            return False

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=5, socket_connect_timeout=2)

    def stop(self) -> None:
        """SIGTERM (redis flushes the AOF on it) and wait; a frozen server is woken first."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def restart(self, keep: bool) -> None:
        """Stop and start on the same port: ``keep`` replays the AOF, else the data files are deleted
        first and the server comes back empty (a Redis that lost everything)."""
        self.stop()
        if not keep:
            for entry in self.dir.iterdir():  # appendonlydir/ (Redis 7), appendonly.aof, dump.rdb
                if entry.is_dir():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
        self.start()

    def unreachable(self, seconds: float) -> None:
        """Freeze the server (SIGSTOP) for ``seconds``: connections open but nothing answers."""
        if self.proc is None or self.proc.poll() is not None:
            raise ServiceError("redis-server is not running")
        self.proc.send_signal(signal.SIGSTOP)
        try:
            time.sleep(seconds)  # the outage itself, not a synchronisation
        finally:
            self.proc.send_signal(signal.SIGCONT)


@contextmanager
def private_redis(port: int) -> Iterator[str]:
    """A fresh, empty, non-persistent redis-server on 127.0.0.1:``port``; yields its URL."""
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server not found on PATH")
    if _port_busy(port):
        raise SystemExit(
            f"port {port} is already in use; stop that server or pick another --redis-port "
            "(the bench only uses a redis-server it started itself)"
        )
    with tempfile.TemporaryDirectory(prefix="cab-redis-") as root:
        server = RedisServer(Path(root), port=port, persist=False)
        try:
            server.start()
        except ServiceError as e:
            raise SystemExit(str(e)) from None
        try:
            yield server.url
        finally:
            server.stop()


# -- PostgreSQL ------------------------------------------------------------------------------------


def pg_bin_dir() -> Path | None:
    """Where initdb and pg_ctl live: ``CAB_PG_BIN``, else the newest /usr/lib/postgresql/*/bin, else PATH."""
    if os.environ.get("CAB_PG_BIN"):
        return Path(os.environ["CAB_PG_BIN"])
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if versions:
        return versions[-1]
    found = shutil.which("pg_ctl")
    return Path(found).resolve().parent if found else None


class PgServer:
    """A PostgreSQL server this process owns: its own cluster, port and socket dir, trust auth.

    The cluster lives in a fresh temp dir (owned by the ``postgres`` OS user when this process is
    root, since initdb refuses to run as root). ``fsync=off``: a crash of the server processes
    (``stop("immediate")``) loses nothing, only an OS crash would, and no test makes one.

        pg = PgServer(database="cab"); pg.start()   # initdb on first start
        pg.url          postgresql+psycopg://postgres@127.0.0.1:PORT/cab
        pg.restart("immediate")                     # crash + recovery, same port
        pg.close()                                  # stop and delete the cluster
    """

    def __init__(self, *, database: str = "postgres", port: int | None = None, parent: Path | None = None):
        self.bin = pg_bin_dir()
        self.port = port or free_port()
        self.database = database
        self.root = Path(tempfile.mkdtemp(prefix=f"cab-pg-{self.port}-", dir=parent))
        self.data = self.root / "data"
        self.log_path = self.root / "postgres.log"
        self._as_postgres = os.geteuid() == 0
        self._initialised = False

    def url_for(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    @property
    def url(self) -> str:
        """SQLAlchemy URL of ``database`` on this server."""
        return self.url_for(self.database)

    def _run(self, tool: str, *args: str, timeout_s: float = PG_START_TIMEOUT_S + 30) -> None:
        if self.bin is None:
            raise ServiceError("PostgreSQL binaries not found (set CAB_PG_BIN to the dir of pg_ctl)")
        cmd = [str(self.bin / tool), *args]
        if self._as_postgres:
            cmd = ["runuser", "-u", PG_USER, "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
        if done.returncode != 0:
            raise ServiceError(f"{tool} {' '.join(args[:2])} failed: {(done.stderr or done.stdout)[-800:]}")

    def _initdb(self) -> None:
        if self._as_postgres:
            shutil.chown(self.root, PG_USER, PG_USER)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        settings = {
            "port": str(self.port),
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.root}'",
            "fsync": "off",
            "full_page_writes": "off",
            "max_connections": "200",
            "log_min_messages": "warning",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n# PgServer\n" + "".join(f"{k} = {v}\n" for k, v in settings.items()))
        self._initialised = True

    def start(self) -> None:
        """initdb on first start, then ``pg_ctl start`` and wait until it accepts connections."""
        if not self._initialised:
            self._initdb()
        wait = ["-w", "-t", str(int(PG_START_TIMEOUT_S))]
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log_path), *wait, "start")
        _wait(lambda: self.ping("postgres"), PG_START_TIMEOUT_S, f"PostgreSQL on {self.port}", poll_s=0.1)
        if self.database != "postgres":
            self.create_database(self.database, exist_ok=True)

    def stop(self, mode: Literal["fast", "immediate", "smart"] = "fast") -> None:
        """``fast``: disconnect clients, checkpoint, exit; ``immediate``: a crash (recovery on start)."""
        if self._initialised and (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def restart(self, mode: Literal["fast", "immediate"] = "fast") -> None:
        self.stop(mode)
        self.start()

    def ping(self, database: str | None = None) -> bool:
        try:
            with psycopg.connect(self.libpq(database), connect_timeout=2) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False

    def libpq(self, database: str | None = None) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database or self.database}"

    def create_database(self, name: str, *, exist_ok: bool = False) -> str:
        """Create ``name`` on this server; returns its SQLAlchemy URL."""
        with psycopg.connect(self.libpq("postgres"), autocommit=True, connect_timeout=5) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if exists and not exist_ok:
                raise ServiceError(f"database {name} exists already")
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
        return self.url_for(name)

    def close(self) -> None:
        """Stop the server (immediate: nothing to keep) and delete its cluster."""
        with suppress(ServiceError, subprocess.TimeoutExpired):
            self.stop("immediate")
        self._kill_leftover()
        shutil.rmtree(self.root, ignore_errors=True)

    def _kill_leftover(self) -> None:
        pidfile = self.data / "postmaster.pid"
        with suppress(OSError, ValueError):
            os.kill(int(pidfile.read_text().split()[0]), signal.SIGKILL)

    def __enter__(self) -> PgServer:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- scratch databases on a shared server ---------------------------------------------------------


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
