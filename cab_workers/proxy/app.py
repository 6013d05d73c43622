"""The proxy's ASGI app: per-cell bearer auth in front of ``forward``.

    GET  /health                  liveness, never authenticated, never recorded
    GET  /v1/models               passthrough
    POST /v1/chat/completions     recorded; streams relayed as they arrive
    POST /v1/completions          recorded; streams relayed as they arrive
    POST /v1/responses            recorded passthrough (Responses API usage names are read too)

Anything but ``Authorization: Bearer <token of an open cell>`` gets 401 with an OpenAI error body;
the log line names the cell when the token belonged to a closed one, never the token itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from structlog.contextvars import bound_contextvars

from cab_workers.proxy.cells import CellRegistry
from cab_workers.proxy.forward import RetryPolicy, forward

log = structlog.get_logger(__name__)

CONNECT_TIMEOUT_S = 30.0
MAX_CONNECTIONS = 1024
"""Upstream connections the proxy opens at most (all cells together)."""


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok", "open_cells": len(request.app.state.registry)})


def _route(rest: str) -> Callable[[Request], Awaitable[Response]]:
    async def handler(request: Request) -> Response:
        registry: CellRegistry = request.app.state.registry
        token = _bearer(request)
        cell = registry.lookup(token) if token else None
        if cell is None:
            log.warning(
                "proxy_auth_failed",
                cell_id=registry.closed_cell_id(token) if token else None,
                path=request.url.path,
                reason="closed cell" if token and registry.closed_cell_id(token) else "unknown token",
            )
            body = {
                "error": {
                    "message": "Invalid or expired cell token.",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "invalid_api_key",
                }
            }
            return JSONResponse(body, 401)
        with bound_contextvars(cell_id=cell.record.cell_id):
            return await forward(request, request.app.state.client, request.app.state.policy, cell, rest)

    return handler


def create_proxy_app(registry: CellRegistry, policy: RetryPolicy, upstream_timeout_s: float) -> Starlette:
    """The recording proxy as an ASGI app; the upstream client lives for the app's lifespan."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        timeout = httpx.Timeout(upstream_timeout_s, connect=min(CONNECT_TIMEOUT_S, upstream_timeout_s))
        limits = httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=256)
        async with httpx.AsyncClient(timeout=timeout, limits=limits, trust_env=False) as client:
            app.state.client = client
            yield

    app = Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/v1/models", _route("models"), methods=["GET"]),
            Route("/v1/chat/completions", _route("chat/completions"), methods=["POST"]),
            Route("/v1/completions", _route("completions"), methods=["POST"]),
            Route("/v1/responses", _route("responses"), methods=["POST"]),
        ],
        lifespan=lifespan,
    )
    app.state.registry = registry
    app.state.policy = policy
    return app
