"""``ResultStore``: cell results in SQLite or PostgreSQL, one idempotent write per attempt.

    store = ResultStore("sqlite:////home/me/.cab/cab.db")   # or postgresql+psycopg://...
    store.create_schema()
    store.record_sweep(spec)
    store.upsert_result(result)          # keyed by (cell_id, attempt); rewrites spans and calls
    store.latest_by_cell(spec.sweep_id)  # {cell_id: latest CellResult}
    store.exchanges(cell_id, attempt)    # the bytes of its model calls, for replay
    store.artifacts(cell_id, attempt)    # its agent diff and terminal recording, digests checked

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
from typing import NamedTuple

from pydantic import ValidationError
from sqlalchemy import Connection, Engine, and_, func, or_, select, text
from sqlalchemy.schema import CreateSchema

from cab_core.budget import Spend
from cab_core.errors import StoreError
from cab_core.masking import mask_url
from cab_core.schema import Artifact, CellResult, Exchange, SweepSpec
from cab_core.store import rows
from cab_core.store.engine import WRITE, make_engine
from cab_core.store.statements import add_missing_columns, latest_attempts, upsert, write_result
from cab_core.store.tables import artifacts as artifact_table
from cab_core.store.tables import cells, metadata, sweeps
from cab_core.store.tables import exchanges as exchange_table
from cab_core.store.translate import store_errors, validation_summary

PAGE_SIZE = 200
"""Results fetched per query by ``iter_results``."""

SCHEMA_LOCK_KEY = 0x0CAB5C4E
"""PostgreSQL advisory lock held while creating tables."""


class SweepSignature(NamedTuple):
    """What ``ResultStore.sweep_signature`` reads: equal signatures mean nothing was written between."""

    attempts: int
    """Stored attempts (``cells`` rows) of the sweep."""
    last_write: str
    """ISO time of the newest write of any of them; "" when none is stored."""


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
    def transaction(self, action: str) -> Iterator[Connection]:
        """One write transaction on a connection of the store, for the store modules that compose their
        own statements (``planned``, ``leases``, ``checkpoints``; see ``statements``).

        Committed when the block ends, rolled back on any exception; a database error raises
        ``StoreError`` naming ``action`` (e.g. ``"cancel sweep-1"``). On SQLite it begins with
        ``BEGIN IMMEDIATE``: the write lock is taken at once, so a read-then-write cannot fail midway.
        """
        with store_errors(self.url, action), self._engine.connect() as conn:
            conn.execution_options(**{WRITE: True})
            with conn.begin():
                yield conn

    @contextmanager
    def reading(self, action: str) -> Iterator[Connection]:
        """One read-only transaction (a consistent view), errors translated as in :meth:`transaction`."""
        with store_errors(self.url, action), self._engine.connect() as conn, conn.begin():
            yield conn

    # ------------------------------------------------------------------ writes

    def create_schema(self) -> None:
        """Create the schema (if named) and every missing table and index; safe to repeat."""
        with self.transaction("create schema") as conn:
            if conn.dialect.name == "postgresql":
                # workers, dispatcher and `cab submit` may all start on an empty database at once;
                # CREATE TABLE is not idempotent under that race, so creators take turns
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SCHEMA_LOCK_KEY})
                if self.schema:
                    conn.execute(CreateSchema(self.schema, if_not_exists=True))
            metadata.create_all(conn, checkfirst=True)
            add_missing_columns(conn, self.schema)

    def record_sweep(self, spec: SweepSpec) -> None:
        """Store ``spec``; re-recording a sweep id replaces its spec and keeps ``created_at``."""
        values = {"sweep_id": spec.sweep_id, "spec": rows.dump(spec), "created_at": datetime.now(UTC)}
        with self.transaction(f"record sweep {spec.sweep_id}") as conn:
            upsert(conn, sweeps, values, keys=("sweep_id",), changing=("spec",))

    def upsert_result(self, result: CellResult) -> None:
        """Write one attempt in one transaction: its cell row, then its spans, calls and exchanges, replaced
        (see :func:`cab_core.store.statements.write_result`)."""
        ident = result.identity
        action = f"write {ident.cell_id} attempt {ident.attempt}"
        self.check(result, action)
        with self.transaction(action) as conn:
            write_result(conn, result)

    def check(self, result: CellResult, action: str) -> None:
        """Refuse (``StoreError``, nothing written) a result that does not validate against the schema."""
        try:
            CellResult.model_validate(result.model_dump(by_alias=True))
        except ValidationError as error:
            reason = validation_summary(error)
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
        with self.reading(f"read {cell_id}") as conn:
            record = conn.execute(query).scalar_one_or_none()
            return None if record is None else rows.load_result(record)

    def exchanges(self, cell_id: str, attempt: int) -> list[Exchange]:
        """The recorded bytes of one attempt's model calls, by ``seq`` ([] when none were kept)."""
        query = (
            select(exchange_table)
            .where(exchange_table.c.cell_id == cell_id, exchange_table.c.attempt == attempt)
            .order_by(exchange_table.c.seq)
        )
        with self.reading(f"read exchanges of {cell_id}") as conn:
            return [rows.load_exchange(r) for r in conn.execute(query)]

    def artifacts(self, cell_id: str, attempt: int) -> list[Artifact]:
        """The artifacts of one attempt (agent diff, terminal recording), by name; [] when none were kept.

        Raises ``StoreError`` when a body does not match its stored sha256 (a row altered or corrupted
        after it was written): a reader never shows such bytes as the agent's.
        """
        query = (
            select(artifact_table)
            .where(artifact_table.c.cell_id == cell_id, artifact_table.c.attempt == attempt)
            .order_by(artifact_table.c.name)
        )
        with self.reading(f"read artifacts of {cell_id}") as conn:
            found = conn.execute(query).all()
        artifacts = [rows.load_artifact(r) for r in found]
        for artifact in artifacts:
            if artifact is None or not artifact.intact():
                raise StoreError(
                    f"an artifact of {cell_id} attempt {attempt} at {mask_url(self.url)} is corrupt (its "
                    "body does not match its sha256): the stored row was altered; rerun the cell to record "
                    "it again"
                )
        return [a for a in artifacts if a is not None]

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
        with self.reading(f"read spend of {sweep_id}") as conn:
            n, tokens, cost, no_tokens, no_cost = conn.execute(query).one()
        return Spend(int(n), int(tokens), float(cost), int(no_tokens), int(no_cost))

    def sweep_signature(self, sweep_id: str) -> SweepSignature:
        """A cheap fingerprint of a sweep's stored attempts: it changes when one is added or rewritten
        (``cab site serve --live`` polls it to know when to rebuild)."""
        query = select(func.count(), func.max(cells.c.updated_at)).where(cells.c.sweep_id == sweep_id)
        with self.reading(f"read signature of {sweep_id}") as conn:
            rows_n, last = conn.execute(query).one()
        return SweepSignature(int(rows_n), last.isoformat() if last is not None else "")

    def latest_by_cell(self, sweep_id: str) -> dict[str, CellResult]:
        """The latest attempt of every stored cell of a sweep, keyed and ordered by cell id."""
        query = select(cells.c.record).select_from(latest_attempts(sweep_id)).order_by(cells.c.cell_id)
        with self.reading(f"read sweep {sweep_id}") as conn:
            results = [rows.load_result(r) for r in conn.execute(query).scalars()]
        return {r.identity.cell_id: r for r in results}

    def final_cell_ids(self, sweep_id: str) -> set[str]:
        """Cells whose latest attempt is final (not an infra failure): resume skips these."""
        query = select(cells.c.cell_id).select_from(latest_attempts(sweep_id)).where(cells.c.final.is_(True))
        with self.reading(f"read sweep {sweep_id}") as conn:
            return set(conn.execute(query).scalars())

    def final_task_hashes(self, sweep_id: str) -> dict[str, str]:
        """cell_id -> the task hash its final latest attempt ran ("" when not recorded), for the cells
        :meth:`final_cell_ids` lists: resume reruns those whose task changed since."""
        query = (
            select(cells.c.cell_id, cells.c.task_hash)
            .select_from(latest_attempts(sweep_id))
            .where(cells.c.final.is_(True))
        )
        with self.reading(f"read sweep {sweep_id}") as conn:
            return {r.cell_id: r.task_hash or "" for r in conn.execute(query)}

    def next_attempt(self, cell_id: str) -> int:
        """1 for a cell never stored, else its highest stored attempt plus one."""
        query = select(func.max(cells.c.attempt)).where(cells.c.cell_id == cell_id)
        with self.reading(f"read {cell_id}") as conn:
            return (conn.execute(query).scalar() or 0) + 1

    def sweep(self, sweep_id: str) -> SweepSpec | None:
        """One recorded sweep spec, or None."""
        query = select(sweeps.c.spec).where(sweeps.c.sweep_id == sweep_id)
        with self.reading(f"read sweep spec {sweep_id}") as conn:
            spec = conn.execute(query).scalar_one_or_none()
        return None if spec is None else rows.load_sweep(spec)

    def sweeps(self) -> list[SweepSpec]:
        """Every recorded sweep spec, oldest first."""
        query = select(sweeps.c.spec).order_by(sweeps.c.created_at, sweeps.c.sweep_id)
        with self.reading("list sweeps") as conn:
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
            with self.reading(f"read sweep {sweep_id}") as conn:
                page = conn.execute(query).all()
                results = [rows.load_result(r.record) for r in page]
            yield from results
            if len(page) < PAGE_SIZE:
                return
            after = (page[-1].cell_id, page[-1].attempt)
