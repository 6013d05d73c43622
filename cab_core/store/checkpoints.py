"""Run/score checkpoints in the result store (shared by every host, unlike a local disk).

Written by the pipeline once the agent has finished, read by a later delivery of the same cell, dropped
once a result is stored. One checkpoint per cell: the newest agent run wins.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select

from cab_core.store.result_store import ResultStore
from cab_core.store.statements import upsert
from cab_core.store.tables import checkpoints

MAX_BYTES = 64 * 1024 * 1024
"""Larger work dirs are not checkpointed (a redelivery reruns the agent)."""


class StoreCheckpoints:
    """The pipeline's checkpoint port, backed by the result store."""

    def __init__(self, store: ResultStore) -> None:
        self.store = store

    def save(self, cell_id: str, attempt: int, meta: dict[str, Any], workdir: bytes) -> bool:
        if len(workdir) > MAX_BYTES:
            return False
        values = {
            "cell_id": cell_id,
            "attempt": attempt,
            "created_at": datetime.now(UTC),
            "meta": meta,
            "workdir": workdir,
        }
        with self.store.transaction(f"checkpoint {cell_id}") as conn:
            upsert(
                conn,
                checkpoints,
                values,
                keys=("cell_id",),
                changing=("attempt", "created_at", "meta", "workdir"),
            )
        return True

    def load(self, cell_id: str) -> tuple[int, dict[str, Any], bytes] | None:
        query = select(checkpoints.c.attempt, checkpoints.c.meta, checkpoints.c.workdir).where(
            checkpoints.c.cell_id == cell_id
        )
        with self.store.reading(f"read checkpoint {cell_id}") as conn:
            row = conn.execute(query).one_or_none()
        return None if row is None else (row.attempt, row.meta, bytes(row.workdir))

    def drop(self, cell_id: str) -> None:
        with self.store.transaction(f"drop checkpoint {cell_id}") as conn:
            conn.execute(delete(checkpoints).where(checkpoints.c.cell_id == cell_id))
