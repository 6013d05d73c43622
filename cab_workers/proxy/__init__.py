"""The recording model proxy: the only way an agent container reaches a model.

One ``ModelProxy`` per worker host holds the real endpoint keys. Each cell gets a ``CellGrant`` (a
random bearer token valid while the cell runs and the proxy's base URL); every call made with it is
forwarded upstream with the real key, retried on upstream faults before the agent sees a byte, and
recorded as ``ModelCall`` rows (one per upstream try) in the cell's ``CellRecord``.

    cells.py    Upstream, CellGrant, CellRecord, token registry
    app.py      routes and per-cell auth
    forward.py  retry loop, stream relay, recording
    wire.py     header filters, upstream body, error bodies, httpx exception names
    usage.py    request hash, usage reading, token estimate
    backoff.py  retry policy (pure)
    server.py   ModelProxy: uvicorn on a background thread
"""

from __future__ import annotations

from cab_workers.proxy.cells import CellGrant, CellRecord, Upstream
from cab_workers.proxy.server import ModelProxy

__all__ = ["CellGrant", "CellRecord", "ModelProxy", "Upstream"]
