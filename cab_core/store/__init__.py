"""The result store: cell results and sweep specs in SQLite (default) or PostgreSQL.

result_store.py   ResultStore, the API callers need, and its public transactions
                  (``transaction`` / ``reading``) the modules below run their statements in
planned/          the distributed sweep's work list (``from cab_core.store import planned as plan``)
leases.py         who runs a planned cell now, and the fence its result write needs
checkpoints.py    run/score checkpoints shared by every host
statements.py     SQL shared by those modules, run inside the caller's transaction
tables.py         table layout (SQLAlchemy Core)
rows.py           pure record <-> row conversions
engine.py         engine construction (SQLite WAL, busy timeout, BEGIN IMMEDIATE)
translate.py      the one edge where database exceptions become StoreError
"""

from __future__ import annotations

from cab_core.masking import mask_url
from cab_core.store.result_store import ResultStore

__all__ = ["ResultStore", "mask_url"]
