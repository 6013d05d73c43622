"""The recording model proxy: the only way an agent container reaches a model.

One ``ModelProxy`` per worker host holds the real endpoint keys. Each cell gets a ``CellGrant`` (a
random bearer token valid while the cell runs and the proxy's base URL); every call made with it is
forwarded upstream with the real key, retried on upstream faults before the agent sees a byte, and
recorded as ``ModelCall`` rows (one per upstream try) in the cell's ``CellRecord``, with the bytes of
every answer the agent got (``Exchange``) so the cell can be replayed without an endpoint.

    cells.py    Upstream, CellGrant, CellRecord, token registry
    app.py      routes and per-cell auth (aiohttp)
    forward.py  endpoint cap, retry loop, stream relay, replay
    call.py     one agent request as forwarded: the upstream body, one record per try
    limits.py   per-endpoint concurrency caps: in-process, or shared through Redis
    replay.py   ReplayBook: recorded exchanges answering in place of an endpoint
    wire.py     header filters, upstream body, error bodies, aiohttp exception names
    usage.py    request hash, usage reading, token estimate
    backoff.py  retry policy (pure)
    server.py   ModelProxy: the aiohttp server on its own event-loop thread
"""

from __future__ import annotations

from cab_workers.proxy.cells import CellGrant, CellRecord, Upstream
from cab_workers.proxy.replay import ReplayBook
from cab_workers.proxy.server import ModelProxy

__all__ = ["CellGrant", "CellRecord", "ModelProxy", "ReplayBook", "Upstream"]
