"""SQL the store modules share, run inside a transaction the caller holds.

``ResultStore.transaction`` / ``ResultStore.reading`` open the transaction (and translate database
errors); the functions here only build and execute statements on the connection they are given, so
``result_store``, ``leases``, ``checkpoints`` and ``planned`` compose them into one atomic unit
(``leases.finish`` writes a result and releases its lease in the same transaction, for instance).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Connection,
    DefaultClause,
    FetchedValue,
    Join,
    Table,
    TextClause,
    and_,
    delete,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from cab_core.schema import CellResult
from cab_core.store import rows
from cab_core.store.tables import artifacts, cells, exchanges, metadata, model_calls, spans


def upsert(
    conn: Connection,
    table: Table,
    values: dict[str, Any],
    *,
    keys: tuple[str, ...],
    changing: tuple[str, ...],
) -> None:
    """INSERT, or UPDATE the ``changing`` columns when a row with the same ``keys`` exists.

    SQLite and PostgreSQL do it in one ``INSERT ... ON CONFLICT DO UPDATE``; other dialects fall back
    to UPDATE-then-INSERT.
    """
    index = [table.c[k] for k in keys]
    if conn.dialect.name == "postgresql":
        pg = postgresql.insert(table).values(values)
        conn.execute(
            pg.on_conflict_do_update(
                index_elements=index, set_={table.c[c]: pg.excluded[c] for c in changing}
            )
        )
        return
    if conn.dialect.name == "sqlite":
        lite = sqlite.insert(table).values(values)
        conn.execute(
            lite.on_conflict_do_update(
                index_elements=index, set_={table.c[c]: lite.excluded[c] for c in changing}
            )
        )
        return
    where = and_(*(table.c[k] == values[k] for k in keys))
    if conn.execute(update(table).where(where).values({c: values[c] for c in changing})).rowcount == 0:
        conn.execute(insert(table).values(values))


def write_result(conn: Connection, result: CellResult) -> None:
    """Upsert one attempt (validated by the caller): its cell row first, then its spans, calls,
    exchanges and artifacts, replaced.

    The cell row goes first so that on PostgreSQL two writers of the same attempt serialise on its
    row lock instead of racing on the child tables.
    """
    ident = result.identity
    row = rows.cell_row(result)
    changing = tuple(k for k in row if k not in ("cell_id", "attempt"))
    upsert(conn, cells, row, keys=("cell_id", "attempt"), changing=changing)
    for child in (spans, model_calls, exchanges, artifacts):
        conn.execute(delete(child).where(child.c.cell_id == ident.cell_id, child.c.attempt == ident.attempt))
    _insert_children(conn, result)


def _insert_children(conn: Connection, result: CellResult) -> None:
    """Insert the spans, model calls, exchanges and artifacts of ``result`` (the old ones are already
    deleted)."""
    if span_values := rows.span_rows(result):
        conn.execute(insert(spans), span_values)
    if call_values := rows.call_rows(result):
        conn.execute(insert(model_calls), call_values)
    if exchange_values := rows.exchange_rows(result):
        conn.execute(insert(exchanges), exchange_values)
    if artifact_values := rows.artifact_rows(result):
        conn.execute(insert(artifacts), artifact_values)


def latest_attempts(sweep_id: str) -> Join:
    """``cells`` joined to the highest attempt of each of the sweep's cells (select from it)."""
    top = (
        select(cells.c.cell_id, func.max(cells.c.attempt).label("attempt"))
        .where(cells.c.sweep_id == sweep_id)
        .group_by(cells.c.cell_id)
        .subquery("latest")
    )
    return cells.join(top, and_(cells.c.cell_id == top.c.cell_id, cells.c.attempt == top.c.attempt))


def add_missing_columns(conn: Connection, schema: str | None) -> None:
    """ALTER TABLE ADD the columns added to a table after a store was created (nullable ones, or
    ones with a server default)."""
    inspector = inspect(conn)
    for table in metadata.sorted_tables:
        have = {c["name"] for c in inspector.get_columns(table.name, schema=schema)}
        for column in table.columns:
            default = column.server_default
            if column.name in have or not (column.nullable or default is not None):
                continue
            name = f'"{schema}".{table.name}' if schema else table.name
            kind = column.type.compile(dialect=conn.dialect)
            conn.execute(text(f"ALTER TABLE {name} ADD COLUMN {column.name} {kind}{_default_sql(default)}"))


def _default_sql(default: FetchedValue | None) -> str:
    """The ``NOT NULL DEFAULT ...`` of a column added later (tables.py writes defaults as ``text()``)."""
    if default is None:
        return ""
    if not isinstance(default, DefaultClause) or not isinstance(default.arg, TextClause):
        raise TypeError(f"server default {default!r} is not a text() clause")
    return f" NOT NULL DEFAULT {default.arg.text}"
