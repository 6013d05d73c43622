"""The proxy's aiohttp app: per-cell bearer auth in front of ``forward``.

    GET  /health                  liveness, never authenticated, never recorded
    GET  /v1/models               passthrough
    POST /v1/chat/completions     recorded; streams relayed as they arrive
    POST /v1/completions          recorded; streams relayed as they arrive
    POST /v1/responses            recorded passthrough (Responses API usage names are read too)

Anything but ``Authorization: Bearer <token of an open cell>`` gets 401 with an OpenAI error body;
the log line names the cell when the token belonged to a closed one, never the token itself. A call
is in its cell's flight list (``CellRecord.begin``/``end``) while it is forwarded, with a way to cancel
its handler from the pipeline's thread: that is how closing a cell cuts the calls still in flight.
The upstream session and the limiter live for the app's lifetime (``cleanup_ctx``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import structlog
from aiohttp import web

from cab_workers.proxy.cells import CellRegistry
from cab_workers.proxy.forward import ProxyState, RetryPolicy, forward
from cab_workers.proxy.limits import Limiter

log = structlog.get_logger(__name__)

CONNECT_TIMEOUT_S = 30.0
MAX_CONNECTIONS = 1024
"""Upstream connections the proxy opens at most (all cells together)."""
KEEPALIVE_S = 3.0
"""Idle upstream connections are dropped after this: below uvicorn's (vLLM's) and node's 5 s, so an
agent's next call (after a tool ran) never lands on a connection the server already closed."""
MAX_BODY_BYTES = 64 * 1024 * 1024
"""Largest request body accepted (long agent conversations run to megabytes)."""

REGISTRY = web.AppKey("registry", CellRegistry)
STATE = web.AppKey("state", ProxyState)

_UNAUTHORISED = {
    "error": {
        "message": "Invalid or expired cell token.",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }
}


def _bearer(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "open_cells": len(request.app[REGISTRY])})


def _canceller() -> Callable[[], None]:
    """Cancel the running request's handler task, from any thread (``CellRecord.close``)."""
    loop, task = asyncio.get_running_loop(), asyncio.current_task()
    assert task is not None, "called from a request handler"

    def cut() -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: the call ended with it
            loop.call_soon_threadsafe(task.cancel)

    return cut


def _route(rest: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        registry = request.app[REGISTRY]
        token = _bearer(request)
        cell = registry.lookup(token) if token else None
        key = cell.record.begin(_canceller()) if cell else None  # None: the cell closed in between
        if cell is None or key is None:
            closed = registry.closed_cell_id(token) if token else None
            log.warning(
                "proxy_auth_failed",
                cell_id=closed,
                path=request.path,
                reason="closed cell" if closed else "unknown token",
            )
            return web.json_response(_UNAUTHORISED, status=401)
        try:
            return await forward(request, request.app[STATE], cell, rest)  # its logs are bound to the cell
        finally:
            cell.record.end(key)

    return handler


def create_proxy_app(
    registry: CellRegistry,
    policy: RetryPolicy,
    upstream_timeout_s: float,
    limiter: Callable[[], Limiter],
) -> web.Application:
    """The recording proxy as an aiohttp app; ``limiter`` is called once the app's loop runs."""

    async def lifespan(app: web.Application) -> AsyncIterator[None]:
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=min(CONNECT_TIMEOUT_S, upstream_timeout_s), sock_read=upstream_timeout_s
        )
        connector = aiohttp.TCPConnector(
            limit=MAX_CONNECTIONS, limit_per_host=0, ttl_dns_cache=300, keepalive_timeout=KEEPALIVE_S
        )
        async with aiohttp.ClientSession(
            connector=connector, timeout=timeout, auto_decompress=False, trust_env=False
        ) as session:
            lim = limiter()
            app[STATE] = ProxyState(session, policy, lim, slot_wait_s=upstream_timeout_s)
            try:
                yield
            finally:
                await lim.aclose()

    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[REGISTRY] = registry
    app.cleanup_ctx.append(lifespan)
    app.router.add_get("/health", health)
    app.router.add_get("/v1/models", _route("models"))
    for rest in ("chat/completions", "completions", "responses"):
        app.router.add_post(f"/v1/{rest}", _route(rest))
    return app
