"""Task bundles in the result store: every task version a sweep was submitted with, by content hash.

``cab submit`` and ``cab run`` save the bundles of a sweep's tasks (:func:`save`) before they record
its plan, in their own transaction: a bundle is content-addressed and never changes, so one saved by
a submission that then failed is harmless, and a plan is never recorded whose bundles are missing.
A host that lacks a cell's task version reads its bundle (:func:`load`) and verifies it
(``cab_core.task_bundle.unpack``) before it runs anything against it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Executable, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from cab_core.store.result_store import ResultStore
from cab_core.store.tables import task_bundles

__all__ = ["Bundle", "load", "missing", "save", "task_ids"]


@dataclass(frozen=True)
class Bundle:
    """One packed task folder (``cab_core.task_bundle.pack``)."""

    task_id: str
    data: bytes


def missing(store: ResultStore, hashes: Iterable[str]) -> set[str]:
    """The ``hashes`` whose bundle is not stored yet."""
    wanted = set(hashes)
    if not wanted:
        return set()
    query = select(task_bundles.c.task_hash).where(task_bundles.c.task_hash.in_(sorted(wanted)))
    with store.reading("read task bundle hashes") as conn:
        return wanted - set(conn.execute(query).scalars())


def save(store: ResultStore, hashes: Iterable[str], pack: Callable[[str], Bundle]) -> int:
    """Store the bundle of every hash not stored yet (``pack(hash)`` makes it); returns how many were
    written. Idempotent: concurrent submitters of the same task version write it once."""
    todo = missing(store, hashes)
    if not todo:
        return 0
    bundles = {h: pack(h) for h in sorted(todo)}
    now = datetime.now(UTC)
    with store.transaction(f"save {len(bundles)} task bundles") as conn:
        present = set(
            conn.execute(
                select(task_bundles.c.task_hash).where(task_bundles.c.task_hash.in_(sorted(bundles)))
            ).scalars()
        )
        values = [
            {"task_hash": h, "task_id": b.task_id, "size": len(b.data), "bundle": b.data, "created_at": now}
            for h, b in bundles.items()
            if h not in present
        ]
        for row in values:
            conn.execute(_insert_new(conn, row))
    return len(values)


def _insert_new(conn: Connection, values: dict[str, object]) -> Executable:
    """INSERT that does nothing when the hash is stored (another submitter won the race)."""
    if conn.dialect.name == "postgresql":
        return (
            postgresql.insert(task_bundles)
            .values(values)
            .on_conflict_do_nothing(index_elements=["task_hash"])
        )
    if conn.dialect.name == "sqlite":
        return sqlite.insert(task_bundles).values(values).on_conflict_do_nothing(index_elements=["task_hash"])
    return insert(task_bundles).values(values)  # other dialects: the read above narrows the race


def load(store: ResultStore, task_hash: str) -> Bundle | None:
    """The stored bundle of ``task_hash`` (unverified: unpack it with the hash), or None."""
    query = select(task_bundles.c.task_id, task_bundles.c.bundle).where(task_bundles.c.task_hash == task_hash)
    with store.reading(f"read task bundle {task_hash[:12]}") as conn:
        row = conn.execute(query).one_or_none()
    return None if row is None else Bundle(row.task_id, bytes(row.bundle))


def task_ids(store: ResultStore, hashes: Iterable[str]) -> Mapping[str, str]:
    """hash -> the task id it was packed from, for the stored ones among ``hashes``."""
    wanted = sorted(set(hashes))
    if not wanted:
        return {}
    query = select(task_bundles.c.task_hash, task_bundles.c.task_id).where(
        task_bundles.c.task_hash.in_(wanted)
    )
    with store.reading("read task bundle ids") as conn:
        return {r.task_hash: r.task_id for r in conn.execute(query)}
