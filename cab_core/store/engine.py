"""Engine construction: one Engine per store, SQLite tuned for parallel writer threads.

SQLite gets WAL (readers never block the writer), a busy timeout (writers queue instead of failing)
and ``BEGIN IMMEDIATE`` for write transactions: a deferred transaction that reads first and then
writes can fail with SQLITE_BUSY at once, whatever the timeout, when another writer got in between.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

BUSY_TIMEOUT_S = 30.0
"""How long a SQLite writer waits for the lock before giving up."""

PG_CONNECT_TIMEOUT_S = 10
"""How long a PostgreSQL connection attempt may take."""

WRITE = "cab_write"
"""Execution option marking a connection whose next transaction writes."""


def _is_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:") or "mode=memory" in str(url)


def make_engine(url: str, *, schema: str | None = None) -> Engine:
    """An Engine for ``url``; ``schema`` (PostgreSQL only) puts every cab table in that schema."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        if schema:
            raise ArgumentError("a store schema is only supported on PostgreSQL")
        kwargs["connect_args"] = {"timeout": BUSY_TIMEOUT_S, "check_same_thread": False}
        if _is_memory(parsed):
            kwargs["poolclass"] = StaticPool  # one shared connection, or every thread sees its own db
        engine = create_engine(parsed, **kwargs)
        _tune_sqlite(engine)
        return engine
    if parsed.get_backend_name() == "postgresql":
        if "connect_timeout" not in parsed.query:
            kwargs["connect_args"] = {"connect_timeout": PG_CONNECT_TIMEOUT_S}
        kwargs["pool_pre_ping"] = True
    engine = create_engine(parsed, **kwargs)
    if schema:
        engine = engine.execution_options(schema_translate_map={None: schema})
    return engine


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module; the "begin" hook below issues BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE) else "BEGIN")
