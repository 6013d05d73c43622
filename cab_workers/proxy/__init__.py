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
    usage.py    request hash, usage reading (usage blocks, llama-server's timings), token estimate
    upstream_error.py  an endpoint's error answer in one classified line (pure)
    sampling.py sampling parameters the agent sent, and those cab sets in their place
    backoff.py  retry policy (pure)
    server.py   ModelProxy: the aiohttp server on its own event-loop thread
    models_listing.py  GET /models of an endpoint (httpx, sync): fetch_models, ModelsListing
    model_build.py     a model's build id from that listing (pure): build_id_from_models
"""

from __future__ import annotations

from cab_workers.proxy.cells import CellGrant, CellRecord, Upstream
from cab_workers.proxy.replay import ReplayBook
from cab_workers.proxy.server import ModelProxy

__all__ = ["CellGrant", "CellRecord", "ModelProxy", "ReplayBook", "Upstream"]
