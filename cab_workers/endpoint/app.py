"""The scripted endpoint's HTTP app: OpenAI-compatible ``/v1/chat/completions`` and ``/v1/models``.

    GET  /health                  liveness, never authenticated
    GET  /v1/models               every behaviour, as ``scripted/<behaviour>``
    POST /v1/chat/completions     non-streamed, or SSE when ``stream`` is true

Errors use OpenAI's body shape (``{"error": {"message", "type", "param", "code"}}``): 401 for a
missing or wrong bearer token when an ``api_key`` is set, 400 for a malformed request, 404 for an
unknown model and for every request to the ``badproto`` model.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import threading
import time
from pathlib import Path
from typing import Any

import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from cab_workers.endpoint import wire
from cab_workers.endpoint.behaviours import BEHAVIOURS, SCRIPTED, SLOW, SLOW_S, Conversation, behaviour_name
from cab_workers.endpoint.catalog import TaskCatalog

log = structlog.get_logger(__name__)

HANG_POLL_S = 0.2
"""How often a hanging request checks whether its client left or the server is closing."""


def _error(status: int, message: str, type_: str, code: str | None = None) -> JSONResponse:
    return JSONResponse(wire.error_body(message, type_, code), status_code=status)


def _authorised(request: Request) -> bool:
    key: str | None = request.app.state.api_key
    if key is None:
        return True
    given = request.headers.get("authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {key}".encode())


def _unauthorised() -> JSONResponse:
    log.warning("endpoint_auth_failed")
    return _error(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key")


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def models(request: Request) -> Response:
    if not _authorised(request):
        return _unauthorised()
    data = [{"id": f"scripted/{b}", "object": "model", "created": 0, "owned_by": "cab"} for b in BEHAVIOURS]
    return JSONResponse({"object": "list", "data": data})


async def _hang(request: Request, model: str) -> Response:
    """Never answer: wait until the client disconnects or the server shuts down."""
    closing: threading.Event = request.app.state.closing
    log.info("endpoint_hang_started", model=model)
    while not closing.is_set() and not await request.is_disconnected():
        await asyncio.sleep(HANG_POLL_S)
    log.info("endpoint_hang_released", model=model, closing=closing.is_set())
    return _error(503, "The server is shutting down.", "server_error", "shutting_down")


async def _pause(request: Request, seconds: float) -> None:
    """Think for ``seconds`` (the ``slow`` behaviour), cut short by shutdown or a gone client."""
    closing: threading.Event = request.app.state.closing
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not closing.is_set() and not await request.is_disconnected():
        await asyncio.sleep(min(HANG_POLL_S, max(0.0, deadline - time.monotonic())))


async def chat_completions(request: Request) -> Response:
    if not _authorised(request):
        return _unauthorised()
    try:
        body = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _error(400, "The request body is not valid JSON.", "invalid_request_error")
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        return _error(400, "'messages' is a required array.", "invalid_request_error")
    model = str(body.get("model") or "")
    behaviour = behaviour_name(model)
    stream = bool(body.get("stream"))
    log.info(
        "endpoint_request", model=model, behaviour=behaviour, stream=stream, messages=len(body["messages"])
    )
    if behaviour == "hang":
        return await _hang(request, model)
    if behaviour == SLOW:
        await _pause(request, SLOW_S)
        behaviour = "oracle"
    if behaviour == "badproto":
        log.info("endpoint_badproto", model=model)
        return _error(
            404,
            "Not found: this endpoint does not serve chat completions.",
            "invalid_request_error",
            "unknown_url",
        )
    script = SCRIPTED.get(behaviour)
    if script is None:
        log.warning("endpoint_unknown_model", model=model)
        return _error(
            404,
            f"The model '{model}' does not exist: model not found.",
            "invalid_request_error",
            "model_not_found",
        )

    reply = script(Conversation.from_request(body), request.app.state.catalog)
    created = int(time.time())
    use = wire.usage(body["messages"], reply)
    log.info(
        "endpoint_reply",
        model=model,
        behaviour=behaviour,
        stream=stream,
        finish_reason=reply.finish_reason,
        tool_calls=len(reply.tool_calls),
        **use,
    )
    if not stream:
        return JSONResponse(wire.completion(body, model, reply, created))

    async def events() -> Any:
        for chunk in wire.chunks(body, model, reply, created):
            yield wire.sse(chunk)
        yield wire.sse("[DONE]")

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


def create_app(tasks_root: Path, *, api_key: str | None = None) -> Starlette:
    """The scripted endpoint as an ASGI app; ``api_key`` set means every /v1 call needs that bearer token."""
    app = Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/v1/models", models, methods=["GET"]),
            Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        ]
    )
    app.state.catalog = TaskCatalog(Path(tasks_root))
    app.state.api_key = api_key
    app.state.closing = threading.Event()
    return app
