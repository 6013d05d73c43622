"""The scripted endpoint's HTTP app: OpenAI-compatible ``/v1/chat/completions`` and ``/v1/models``.

    GET  /health                  liveness, never authenticated
    GET  /v1/models               every behaviour, as ``scripted/<behaviour>``
    POST /v1/chat/completions     non-streamed, or SSE when ``stream`` is true
    POST /v1/responses            the Responses API (codex): non-streamed, or its SSE events

Errors use OpenAI's body shape (``{"error": {"message", "type", "param", "code"}}``): 401 for a
missing or wrong bearer token when an ``api_key`` is set, 400 for a malformed request, 404 for an
unknown model and for every request to the ``badproto`` model.

Answers are framed by the request's server profile (``profiles``: the ``x-cab-server-profile``
header, else the app's default): ``llama-server`` frames them, errors included, as llama.cpp's
server does, and refuses what it refuses (a prompt past its context, ``max_tokens`` below -1).

The unlisted fault behaviours (``behaviours.FAULTS``) answer 429 with ``Retry-After: 1``, 500, or abort
the TCP connection before any response byte (``fault-reset``: needs uvicorn, whose ``send`` exposes
the connection's transport; under another server it falls back to a 500), then act like ``oracle``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from cab_endpoint import chat, responses
from cab_endpoint.behaviours import (
    BEHAVIOURS,
    SLOW,
    SLOW_S,
    Reply,
    behaviour_name,
    drip_of,
    fault_of,
    script_for,
)
from cab_endpoint.dialects import Conversation
from cab_endpoint.profiles import DEFAULT_PROFILE, PROFILE_HEADER, PROFILES, ServerProfile, profile
from cab_endpoint.task_index import TASK_HASH_HEADER, TaskRoots

log = structlog.get_logger(__name__)

HANG_POLL_S = 0.2
"""How often a hanging request checks whether its client left or the server is closing."""


def _profile(request: Request) -> ServerProfile:
    """The request's server profile (an unknown name is refused by ``_read``; errors use the default)."""
    default: ServerProfile = request.app.state.profile
    return PROFILES.get(request.headers.get(PROFILE_HEADER) or default.name, default)


def _error(request: Request, status: int, message: str, type_: str, code: str | None = None) -> JSONResponse:
    return JSONResponse(_profile(request).error_body(status, message, type_, code), status_code=status)


def _authorised(request: Request) -> bool:
    key: str | None = request.app.state.api_key
    if key is None:
        return True
    given = request.headers.get("authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {key}".encode())


def _unauthorised(request: Request) -> JSONResponse:
    log.warning("endpoint_auth_failed")
    return _error(request, 401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key")


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def models(request: Request) -> Response:
    if not _authorised(request):
        return _unauthorised(request)
    data = [{"id": f"scripted/{b}", "object": "model", "created": 0, "owned_by": "cab"} for b in BEHAVIOURS]
    return JSONResponse({"object": "list", "data": data})


async def _hang(request: Request, model: str) -> Response:
    """Never answer: wait until the client disconnects or the server shuts down."""
    closing: threading.Event = request.app.state.closing
    log.info("endpoint_hang_started", model=model)
    while not closing.is_set() and not await request.is_disconnected():
        await asyncio.sleep(HANG_POLL_S)
    log.info("endpoint_hang_released", model=model, closing=closing.is_set())
    return _error(request, 503, "The server is shutting down.", "server_error", "shutting_down")


async def _pause(request: Request, seconds: float) -> None:
    """Think for ``seconds`` (the ``slow`` behaviour), cut short by shutdown or a gone client."""
    closing: threading.Event = request.app.state.closing
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not closing.is_set() and not await request.is_disconnected():
        await asyncio.sleep(min(HANG_POLL_S, max(0.0, deadline - time.monotonic())))


TRANSPORT_KEY = "cab.transport"
"""Scope key under which ``_EndpointApp`` leaves the server's connection transport (uvicorn only)."""


class _EndpointApp(Starlette):
    """Starlette that remembers the server connection's transport, so ``fault-reset`` can abort it."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[TRANSPORT_KEY] = getattr(getattr(send, "__self__", None), "transport", None)
        await super().__call__(scope, receive, send)


async def _fault(request: Request, behaviour: str, body: dict[str, Any]) -> Response | None:
    """The injected fault for this request, or None once the body's faults are spent."""
    fault = fault_of(behaviour)
    if fault is None:
        return None
    kind, times = fault
    counts: dict[tuple[str, str], int] = request.app.state.fault_counts
    key = (behaviour, hashlib.sha256(chat.canonical_json(body).encode()).hexdigest())
    if counts.get(key, 0) >= times:
        return None
    counts[key] = counts.get(key, 0) + 1
    log.info("endpoint_fault", behaviour=behaviour, fault=kind, count=counts[key], of=times)
    if kind == "429":
        resp = _error(
            request, 429, "Rate limit reached; retry after 1s.", "rate_limit_error", "rate_limit_exceeded"
        )
        resp.headers["Retry-After"] = "1"
        return resp
    transport = request.scope.get(TRANSPORT_KEY) if kind == "reset" else None
    if transport is not None:
        transport.abort()
        await asyncio.sleep(0.01)  # let the server see the connection lost; what follows is discarded
        return Response(status_code=499)
    return _error(request, 500, "The server had an error while processing your request.", "server_error")


@dataclass
class _Turn:
    """What the behaviour decided for one request (or the HTTP answer that replaces a reply)."""

    model: str
    behaviour: str
    reply: Reply | None = None
    answer: Response | None = None
    usage_off: bool = False
    drip: float | None = None


async def _read(request: Request, required: str) -> dict[str, Any] | Response:
    if not _authorised(request):
        return _unauthorised(request)
    try:
        body = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _error(request, 400, "The request body is not valid JSON.", "invalid_request_error")
    if not isinstance(body, dict) or required not in body:
        return _error(request, 400, f"'{required}' is required.", "invalid_request_error")
    name = request.headers.get(PROFILE_HEADER)
    if name is not None and name not in PROFILES:
        known = ", ".join(PROFILES)
        return _error(
            request, 400, f"Unknown server profile {name!r}; one of: {known}.", "invalid_request_error"
        )
    refused = _profile(request).refuse(body, body[required])
    if refused is not None:
        log.info("endpoint_refused", profile=_profile(request).name, status=refused[0])
        return JSONResponse(refused[1], status_code=refused[0])
    return body


async def _turn(request: Request, body: dict[str, Any], convo: Conversation, what: str) -> _Turn:
    """Faults, pacing and protocol mismatches first; then the behaviour's reply to ``convo``."""
    model = str(body.get("model") or "")
    turn = _Turn(model, behaviour_name(model))
    log.info(
        "endpoint_request", api=what, model=model, behaviour=turn.behaviour, stream=bool(body.get("stream"))
    )
    if turn.behaviour == "hang":
        turn.answer = await _hang(request, model)
        return turn
    turn.answer = await _fault(request, turn.behaviour, body)
    if turn.answer is not None:
        return turn
    turn.usage_off, turn.drip = turn.behaviour == "nousage", drip_of(turn.behaviour)
    if turn.usage_off or turn.drip is not None or fault_of(turn.behaviour):
        turn.behaviour = "oracle"
    if turn.behaviour == SLOW:
        await _pause(request, SLOW_S)
        turn.behaviour = "oracle"
    if turn.behaviour == "badproto":
        log.info("endpoint_badproto", model=model)
        turn.answer = _error(
            request,
            404,
            f"Not found: this endpoint does not serve {what}.",
            "invalid_request_error",
            "unknown_url",
        )
        return turn
    script = script_for(turn.behaviour)
    if script is None:
        log.warning("endpoint_unknown_model", model=model)
        turn.answer = _error(
            request,
            404,
            f"The model '{model}' does not exist: model not found.",
            "invalid_request_error",
            "model_not_found",
        )
        return turn
    roots: TaskRoots = request.app.state.roots
    turn.reply = script(convo, roots.catalog(request.headers.get(TASK_HASH_HEADER)))
    log.info(
        "endpoint_reply",
        api=what,
        model=model,
        behaviour=turn.behaviour,
        finish_reason=turn.reply.finish_reason,
        tool_calls=len(turn.reply.tool_calls),
    )
    return turn


def _stream(frames: Any, drip: float | None, done: bytes | None) -> StreamingResponse:
    async def body() -> Any:
        loop = asyncio.get_running_loop()
        due = loop.time()
        for frame in frames:
            yield frame
            if drip:  # on a fixed schedule: one stall of this loop late-delivers one chunk, not the rest
                due += drip
                await asyncio.sleep(max(0.0, due - loop.time()))
        if done:
            yield done

    return StreamingResponse(body(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


async def chat_completions(request: Request) -> Response:
    body = await _read(request, "messages")
    if isinstance(body, Response):
        return body
    if not isinstance(body["messages"], list):
        return _error(request, 400, "'messages' is a required array.", "invalid_request_error")
    turn = await _turn(request, body, Conversation.from_request(body), "chat completions")
    if turn.reply is None:
        return turn.answer  # type: ignore[return-value]  # _turn sets answer whenever it leaves reply None
    created, framing = int(time.time()), _profile(request)
    if not body.get("stream"):
        done = framing.completion(body, turn.model, turn.reply, created)
        return JSONResponse(_without_usage(done) if turn.usage_off else done)
    if turn.usage_off:
        body = {k: v for k, v in body.items() if k != "stream_options"}
    chunks = framing.chunks(body, turn.model, turn.reply, created)
    frames = (chat.sse(_without_usage(c) if turn.usage_off else c) for c in chunks)
    return _stream(frames, turn.drip, chat.sse("[DONE]"))


def _without_usage(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` without what tells its token counts (``nousage``: ``usage``, and llama's ``timings``)."""
    return {k: v for k, v in obj.items() if k not in ("usage", "timings")}


async def responses_api(request: Request) -> Response:
    body = await _read(request, "input")
    if isinstance(body, Response):
        return body
    turn = await _turn(request, body, Conversation.from_responses(body), "the Responses API")
    if turn.reply is None:
        return turn.answer  # type: ignore[return-value]  # _turn sets answer whenever it leaves reply None
    created, framing = int(time.time()), _profile(request)
    if not body.get("stream"):
        return JSONResponse(framing.response(body, turn.model, turn.reply, created))
    frames = (responses.sse(e) for e in framing.events(body, turn.model, turn.reply, created))
    return _stream(frames, turn.drip, None)


def create_app(
    tasks_root: Path,
    *,
    api_key: str | None = None,
    versions_root: Path | None = None,
    profile_name: str = DEFAULT_PROFILE,
) -> Starlette:
    """The scripted endpoint as an ASGI app; ``api_key`` set means every /v1 call needs that bearer token.

    ``versions_root``: task versions by hash (a host's task cache), served to requests that name one
    in the ``x-cab-task-hash`` header (``task_index.TaskRoots``). ``profile_name``: the server profile
    of requests without the ``x-cab-server-profile`` header (``profiles``; ``ConfigError`` if unknown)."""
    default = profile(profile_name)
    app = _EndpointApp(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/v1/models", models, methods=["GET"]),
            Route("/v1/chat/completions", chat_completions, methods=["POST"]),
            Route("/v1/responses", responses_api, methods=["POST"]),
        ]
    )
    app.state.roots = TaskRoots(Path(tasks_root), versions_root)
    app.state.api_key = api_key
    app.state.closing = threading.Event()
    app.state.fault_counts = {}
    app.state.profile = default
    return app
