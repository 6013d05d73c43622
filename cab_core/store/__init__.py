"""The result store: cell results and sweep specs in SQLite (default) or PostgreSQL.

result_store.py   ResultStore, the only API callers need
tables.py         table layout (SQLAlchemy Core)
rows.py           pure record <-> row conversions
engine.py         engine construction (SQLite WAL, busy timeout, BEGIN IMMEDIATE)
translate.py      the one edge where database exceptions become StoreError
"""

from __future__ import annotations

from cab_core.store.result_store import ResultStore
from cab_core.store.translate import mask_url

__all__ = ["ResultStore", "mask_url"]
