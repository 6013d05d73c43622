"""``ResultStore``: cell results in SQLite or PostgreSQL, one idempotent write per attempt.

    store = ResultStore("sqlite:////home/me/.cab/cab.db")   # or postgresql+psycopg://...
    store.create_schema()
    store.record_sweep(spec)
    store.upsert_result(result)          # keyed by (cell_id, attempt); rewrites spans and calls
    store.latest_by_cell(spec.sweep_id)  # {cell_id: latest CellResult}
    store.exchanges(cell_id, attempt)    # the bytes of its model calls, for replay

Every public method raises only ``cab_core.errors.StoreError`` for database trouble (see
``cab_core.store.translate``). Methods are safe to call from several threads at once.

A result is validated against the schema before it is written: one that does not validate (built
with ``model_construct``, or changed by ``model_copy(update=...)``), such as a NaN composite or a
negative token count, is refused with ``StoreError`` and nothing is written. Unchecked, SQLite stored
``NaN`` in the JSON record (and every later read of the sweep failed) and PostgreSQL's JSONB rejected it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import (
    Connection,
    Engine,
    Table,
    and_,
    delete,
    func,
    insert,
    inspect,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateSchema

from cab_core.budget import Spend
from cab_core.errors import StoreError
from cab_core.schema import CellResult, Exchange, SweepSpec
from cab_core.store import rows
from cab_core.store.engine import WRITE, make_engine
from cab_core.store.tables import cells, metadata, model_calls, spans, sweeps
from cab_core.store.tables import exchanges as exchange_table
from cab_core.store.translate import mask_url, store_errors

PAGE_SIZE = 200
"""Results fetched per query by ``iter_results``."""

_DIALECT_INSERT = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
"""Dialects with INSERT ... ON CONFLICT DO UPDATE; others fall back to UPDATE-then-INSERT."""


SCHEMA_LOCK_KEY = 0x0CAB5C4E
"""PostgreSQL advisory lock held while creating tables."""


class ResultStore:
    """Cell results and sweep specs behind one SQLAlchemy Engine."""

    def __init__(self, url: str, *, schema: str | None = None) -> None:
        """Open (lazily) the store at ``url``; ``schema`` puts the tables in a PostgreSQL schema."""
        self.url = url
        self.schema = schema
        with store_errors(url, "open"):
            self._engine = make_engine(url, schema=schema)

    def __repr__(self) -> str:
        return f"ResultStore({mask_url(self.url)!r})"

    @property
    def engine(self) -> Engine:
        """The store's one Engine (for diagnostics and tests; prefer the methods below)."""
        return self._engine

    def close(self) -> None:
        """Close pooled connections; the store reopens them if used again."""
        self._engine.dispose()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ transactions

    @contextmanager
    def _write(self, action: str) -> Iterator[Connection]:
        """One write transaction: committed on success, rolled back on any exception."""
        with store_errors(self.url, action), self._engine.connect() as conn:
            conn.execution_options(**{WRITE: True})
            with conn.begin():
                yield conn

    @contextmanager
    def _read(self, action: str) -> Iterator[Connection]:
        with store_errors(self.url, action), self._engine.connect() as conn, conn.begin():
            yield conn

    # ------------------------------------------------------------------ writes

    def create_schema(self) -> None:
        """Create the schema (if named) and every missing table and index; safe to repeat."""
        with self._write("create schema") as conn:
            if conn.dialect.name == "postgresql":
                # workers, dispatcher and `cab submit` may all start on an empty database at once;
                # CREATE TABLE is not idempotent under that race, so creators take turns
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SCHEMA_LOCK_KEY})
                if self.schema:
                    conn.execute(CreateSchema(self.schema, if_not_exists=True))
            metadata.create_all(conn, checkfirst=True)
            _add_missing_columns(conn, self.schema)

    def record_sweep(self, spec: SweepSpec) -> None:
        """Store ``spec``; re-recording a sweep id replaces its spec and keeps ``created_at``."""
        values = {"sweep_id": spec.sweep_id, "spec": rows.dump(spec), "created_at": datetime.now(UTC)}
        with self._write(f"record sweep {spec.sweep_id}") as conn:
            _upsert(conn, sweeps, values, keys=("sweep_id",), changing=("spec",))

    def upsert_result(self, result: CellResult) -> None:
        """Write one attempt in one transaction: its cell row, then its spans, calls and exchanges, replaced.

        The cell row is upserted first so that on PostgreSQL two writers of the same attempt
        serialise on its row lock instead of racing on the child tables.
        """
        ident = result.identity
        action = f"write {ident.cell_id} attempt {ident.attempt}"
        self.check(result, action)
        with self._write(action) as conn:
            write_result(conn, result)

    def check(self, result: CellResult, action: str) -> None:
        """Refuse (``StoreError``, nothing written) a result that does not validate against the schema."""
        try:
            CellResult.model_validate(result.model_dump(by_alias=True))
        except ValidationError as error:
            first = error.errors()[0] if error.errors() else {}
            where = ".".join(str(p) for p in first.get("loc", ())) or "<root>"
            reason = f"{error.error_count()} validation error(s), first at {where}: {first.get('msg', '')}"
            raise StoreError(
                f"result store refused a record at {mask_url(self.url)} ({action}): {reason}; "
                "nothing was written; this is a bug in the writer"
            ) from error

    # ------------------------------------------------------------------ reads

    def get(self, cell_id: str, attempt: int | None = None) -> CellResult | None:
        """One attempt of a cell (the latest when ``attempt`` is None), or None if never stored."""
        query = select(cells.c.record).where(cells.c.cell_id == cell_id)
        query = query.where(cells.c.attempt == attempt) if attempt is not None else query
        query = query.order_by(cells.c.attempt.desc()).limit(1)
        with self._read(f"read {cell_id}") as conn:
            record = conn.execute(query).scalar_one_or_none()
            return None if record is None else rows.load_result(record)

    def exchanges(self, cell_id: str, attempt: int) -> list[Exchange]:
        """The recorded bytes of one attempt's model calls, by ``seq`` ([] when none were kept)."""
        query = (
            select(exchange_table)
            .where(exchange_table.c.cell_id == cell_id, exchange_table.c.attempt == attempt)
            .order_by(exchange_table.c.seq)
        )
        with self._read(f"read exchanges of {cell_id}") as conn:
            return [rows.load_exchange(r) for r in conn.execute(query)]

    def sweep_spend(self, sweep_id: str) -> Spend:
        """What every stored attempt of a sweep recorded: tokens, cost, and how many were unknown."""
        c = cells.c
        query = select(
            func.count(),
            func.coalesce(func.sum(c.total_tokens), 0),
            func.coalesce(func.sum(c.cost_usd), 0.0),
            func.count().filter(c.total_tokens.is_(None)),
            func.count().filter(c.cost_usd.is_(None)),
        ).where(c.sweep_id == sweep_id)
        with self._read(f"read spend of {sweep_id}") as conn:
            n, tokens, cost, no_tokens, no_cost = conn.execute(query).one()
        return Spend(int(n), int(tokens), float(cost), int(no_tokens), int(no_cost))

    def latest_by_cell(self, sweep_id: str) -> dict[str, CellResult]:
        """The latest attempt of every stored cell of a sweep, keyed and ordered by cell id."""
        query = select(cells.c.record).select_from(_latest(sweep_id)).order_by(cells.c.cell_id)
        with self._read(f"read sweep {sweep_id}") as conn:
            results = [rows.load_result(r) for r in conn.execute(query).scalars()]
        return {r.identity.cell_id: r for r in results}

    def final_cell_ids(self, sweep_id: str) -> set[str]:
        """Cells whose latest attempt is final (not an infra failure): resume skips these."""
        query = select(cells.c.cell_id).select_from(_latest(sweep_id)).where(cells.c.final.is_(True))
        with self._read(f"read sweep {sweep_id}") as conn:
            return set(conn.execute(query).scalars())

    def next_attempt(self, cell_id: str) -> int:
        """1 for a cell never stored, else its highest stored attempt plus one."""
        query = select(func.max(cells.c.attempt)).where(cells.c.cell_id == cell_id)
        with self._read(f"read {cell_id}") as conn:
            return (conn.execute(query).scalar() or 0) + 1

    def sweep(self, sweep_id: str) -> SweepSpec | None:
        """One recorded sweep spec, or None."""
        query = select(sweeps.c.spec).where(sweeps.c.sweep_id == sweep_id)
        with self._read(f"read sweep spec {sweep_id}") as conn:
            spec = conn.execute(query).scalar_one_or_none()
        return None if spec is None else rows.load_sweep(spec)

    def sweeps(self) -> list[SweepSpec]:
        """Every recorded sweep spec, oldest first."""
        query = select(sweeps.c.spec).order_by(sweeps.c.created_at, sweeps.c.sweep_id)
        with self._read("list sweeps") as conn:
            return [rows.load_sweep(s) for s in conn.execute(query).scalars()]

    def iter_results(self, sweep_id: str) -> Iterator[CellResult]:
        """Every stored attempt of a sweep, by cell id then attempt; fetched a page at a time."""
        after: tuple[str, int] | None = None
        while True:
            query = select(cells.c.cell_id, cells.c.attempt, cells.c.record)
            query = query.where(cells.c.sweep_id == sweep_id)
            if after is not None:
                query = query.where(
                    or_(
                        cells.c.cell_id > after[0],
                        and_(cells.c.cell_id == after[0], cells.c.attempt > after[1]),
                    )
                )
            query = query.order_by(cells.c.cell_id, cells.c.attempt).limit(PAGE_SIZE)
            with self._read(f"read sweep {sweep_id}") as conn:
                page = conn.execute(query).all()
                results = [rows.load_result(r.record) for r in page]
            yield from results
            if len(page) < PAGE_SIZE:
                return
            after = (page[-1].cell_id, page[-1].attempt)


def _add_missing_columns(conn: Connection, schema: str | None) -> None:
    """Columns added to a table after a store was created (nullable ones, or with a server default):
    ALTER TABLE ADD."""
    inspector = inspect(conn)
    for table in metadata.sorted_tables:
        have = {c["name"] for c in inspector.get_columns(table.name, schema=schema)}
        for column in table.columns:
            default = column.server_default
            if column.name in have or not (column.nullable or default is not None):
                continue
            name = f'"{schema}".{table.name}' if schema else table.name
            kind = column.type.compile(dialect=conn.dialect)
            extra = "" if default is None else f" NOT NULL DEFAULT {default.arg.text}"  # type: ignore[attr-defined]
            conn.execute(text(f"ALTER TABLE {name} ADD COLUMN {column.name} {kind}{extra}"))


def _latest(sweep_id: str) -> Any:
    """``cells`` joined to each of the sweep's cells' highest attempt."""
    top = (
        select(cells.c.cell_id, func.max(cells.c.attempt).label("attempt"))
        .where(cells.c.sweep_id == sweep_id)
        .group_by(cells.c.cell_id)
        .subquery("latest")
    )
    return cells.join(top, and_(cells.c.cell_id == top.c.cell_id, cells.c.attempt == top.c.attempt))


def write_result(conn: Connection, result: CellResult) -> None:
    """Upsert one attempt inside the caller's transaction (validated by the caller): its cell row
    first, then its spans, calls and exchanges, replaced."""
    ident = result.identity
    row = rows.cell_row(result)
    changing = tuple(k for k in row if k not in ("cell_id", "attempt"))
    _upsert(conn, cells, row, keys=("cell_id", "attempt"), changing=changing)
    for child in (spans, model_calls, exchange_table):
        conn.execute(delete(child).where(child.c.cell_id == ident.cell_id, child.c.attempt == ident.attempt))
    _insert_children(conn, result)


def _insert_children(conn: Connection, result: CellResult) -> None:
    """Insert the spans and model calls of ``result`` (the old ones are already deleted)."""
    if span_values := rows.span_rows(result):
        conn.execute(insert(spans), span_values)
    if call_values := rows.call_rows(result):
        conn.execute(insert(model_calls), call_values)
    if exchange_values := rows.exchange_rows(result):
        conn.execute(insert(exchange_table), exchange_values)


def _upsert(
    conn: Connection,
    table: Table,
    values: dict[str, Any],
    *,
    keys: tuple[str, ...],
    changing: tuple[str, ...],
) -> None:
    """INSERT, or UPDATE the ``changing`` columns when a row with the same ``keys`` exists."""
    dialect_insert = _DIALECT_INSERT.get(conn.dialect.name)
    if dialect_insert is not None:
        stmt = dialect_insert(table).values(values)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[table.c[k] for k in keys],
                set_={table.c[c]: stmt.excluded[c] for c in changing},
            )
        )
        return
    where = and_(*(table.c[k] == values[k] for k in keys))
    if conn.execute(update(table).where(where).values({c: values[c] for c in changing})).rowcount == 0:
        conn.execute(insert(table).values(values))
