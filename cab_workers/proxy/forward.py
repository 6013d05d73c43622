"""Forward one agent request upstream: retries before the first byte, relay after it, one record per try.

    cap slot (per endpoint, optional) ── try 1 ── 429/5xx/reset/timeout ──> record(error)
      │                                    │         ── wait (Retry-After or backoff) ──> try 2 ...
      │                                    │                      budget spent ──> 502/504 + infra
      │                                    └── answer ──> non-streamed: read whole, record, return
      │                                                   streamed (200): read the first chunk (still
      │                                                   retryable), then relay chunk by chunk; the
      │                                                   record is written when the stream ends
      └── replay book instead of an endpoint: the recorded answer, recorded again

Upstream 401/403 mean the proxy's own key is wrong: never relayed (the body may quote the key), the
agent gets 502 and the cell is marked infra at once. A 400/422 to a stream the proxy added
``stream_options`` to is retried at once without it, and that endpoint is not asked again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
import structlog
from aiohttp import web

from cab_core.schema import TokenSource
from cab_workers.proxy import wire
from cab_workers.proxy.backoff import backoff_s, retry_after_s, retryable
from cab_workers.proxy.cells import OpenCell
from cab_workers.proxy.limits import Limiter, LimiterError, SlotTimeout
from cab_workers.proxy.usage import Tally, request_hash

log = structlog.get_logger(__name__)

TOKEN_PATHS = frozenset({"chat/completions", "completions", "responses"})
"""Paths whose calls carry token usage (``models`` does not)."""
SSE = "text/event-stream"


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 4
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0


@dataclass
class ProxyState:
    """What every request of one proxy shares."""

    session: aiohttp.ClientSession
    policy: RetryPolicy
    limiter: Limiter
    slot_wait_s: float
    """Longest a call waits for a slot of its endpoint's cap before the proxy answers 503 (infra)."""
    refuses_stream_options: set[str] = field(default_factory=set)
    """Base URLs that answered 400/422 to ``stream_options``: their streams go as the agent wrote them."""


@dataclass
class _Call:
    """One agent request, as forwarded."""

    cell: OpenCell
    rest: str
    method: str
    url: str
    headers: dict[str, str]
    raw: bytes
    """The body as the agent sent it (what replay matches and keeps)."""
    body: bytes
    """The body sent upstream."""
    parsed: Any
    common: dict[str, Any]
    log: Any
    """structlog logger bound to the cell id."""
    asked_usage: bool = False
    """The proxy added ``stream_options.include_usage`` to the agent's body."""
    queued_ms: float | None = None

    @property
    def path(self) -> str:
        return str(self.common["endpoint_path"])

    def record(
        self,
        attempt: int,
        started: float,
        at: datetime,
        *,
        response: tuple[bytes, str] | None = None,
        **fields: Any,
    ) -> None:
        latency = round((time.monotonic() - started) * 1000, 3)
        seq = self.cell.record.add(
            request_body=self.raw,
            response=response,
            **self.common,
            upstream_attempt=attempt,
            timestamp=at,
            latency_ms=latency,
            queued_ms=self.queued_ms if attempt == 1 else None,
            **fields,
        )
        self.log.info(
            "proxy_call",
            seq=seq,
            path=self.path,
            attempt=attempt,
            status=fields.get("http_status"),
            error=fields.get("error"),
            latency_ms=latency,
            prompt_tokens=fields.get("prompt_tokens"),
            completion_tokens=fields.get("completion_tokens"),
        )

    def tokens(self, tally: Tally) -> dict[str, Any]:
        fields: dict[str, Any] = {"finish_reason": tally.finish_reason}
        return {**fields, **tally.fields(self.parsed)} if self.rest in TOKEN_PATHS else fields


def _prepare(request: web.Request, raw: bytes, cell: OpenCell, rest: str, ask_usage: bool) -> _Call:
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:  # JSONDecodeError, UnicodeDecodeError, and an integer past int_max_str_digits
        parsed = None
    obj = parsed if isinstance(parsed, dict) else {}
    query = f"?{request.query_string}" if request.query_string else ""
    common = {
        "request_hash": request_hash(raw, parsed),
        "model": str(obj.get("model") or ""),
        "endpoint_path": f"/v1/{rest}",
        "stream": bool(obj.get("stream")),
        "source": TokenSource.proxy.value,  # a plain str: rows of atomics stay out of the GC
    }
    upstream = cell.upstream
    body, asked = wire.upstream_body(raw, parsed, rest, upstream.model_map, ask_usage=ask_usage)
    return _Call(
        cell=cell,
        rest=rest,
        method=request.method,
        url=upstream.url(rest) + query,
        headers=wire.upstream_headers(request.headers, upstream.api_key, cell.token),
        raw=raw,
        body=body,
        parsed=parsed,
        common=common,
        log=log.bind(cell_id=cell.record.cell_id),
        asked_usage=asked,
    )


def _failure(call: _Call, status: int, code: str, message: str) -> web.Response:
    call.cell.record.mark_infra(message)
    call.log.error("proxy_upstream_failed", path=call.path, status=status, reason=message)
    body = wire.error_body(f"Upstream model endpoint failure (infra): {message}", code)
    return web.json_response(body, status=status)


def _gone(request: web.Request) -> bool:
    """The agent hung up (its connection is closed or closing)."""
    transport = request.transport
    return transport is None or transport.is_closing()


async def forward(request: web.Request, state: ProxyState, cell: OpenCell, rest: str) -> web.StreamResponse:
    """Answer one agent request through the cell's upstream (or its replay book)."""
    cell.record.begin()
    upstream = cell.upstream
    ask_usage = upstream.base_url not in state.refuses_stream_options
    call = _prepare(request, await request.read(), cell, rest, ask_usage)
    if upstream.replay is not None:
        return await _replay(request, call)
    async with contextlib.AsyncExitStack() as stack:
        if upstream.concurrency:
            try:
                call.queued_ms = round(
                    await stack.enter_async_context(
                        state.limiter.slot(upstream.limit_name, upstream.concurrency, state.slot_wait_s)
                    ),
                    3,
                )
            except (SlotTimeout, LimiterError) as e:
                call.record(1, time.monotonic(), datetime.now(UTC), error=str(e))
                return _failure(call, 503, "endpoint_cap", f"endpoint concurrency cap: {e}")
        return await _tries(request, state, call)
    raise AssertionError("unreachable")  # pragma: no cover - the stack never swallows


async def _tries(request: web.Request, state: ProxyState, call: _Call) -> web.StreamResponse:
    policy, key = state.policy, call.cell.upstream.api_key
    kind, reason = "transport", "no attempt made"
    attempt = 0
    while attempt <= policy.max_retries:
        attempt += 1
        started, at = time.monotonic(), datetime.now(UTC)
        wait_for: float | None = None
        try:
            resp = await state.session.request(call.method, call.url, headers=call.headers, data=call.body)
        except wire.TRANSPORT_ERRORS as exc:
            kind, reason = wire.describe(exc)
            call.record(attempt, started, at, error=reason)
        else:
            try:
                status = resp.status
                if status in (401, 403):
                    call.record(
                        attempt,
                        started,
                        at,
                        http_status=status,
                        error=f"upstream rejected the key ({status})",
                    )
                    return _failure(
                        call, 502, "upstream_auth", f"the endpoint rejected the proxy's key ({status})"
                    )
                if status in (400, 422) and call.asked_usage:
                    await resp.read()
                    call.record(
                        attempt,
                        started,
                        at,
                        http_status=status,
                        error="upstream refused stream_options; sent again as the agent wrote it",
                    )
                    state.refuses_stream_options.add(call.cell.upstream.base_url)
                    call.body, call.asked_usage = wire.upstream_body(
                        call.raw, call.parsed, call.rest, call.cell.upstream.model_map, ask_usage=False
                    )
                    attempt -= 1  # the endpoint's dialect, not a fault: no retry is spent
                    continue
                if retryable(status):
                    await resp.read()
                    kind, reason = "status", f"upstream answered {status}"
                    wait_for = retry_after_s(resp.headers.get("retry-after"))
                    call.record(attempt, started, at, http_status=status, error=reason)
                elif call.common["stream"] and status == 200:
                    first = await resp.content.readany()
                    ttft = round((time.monotonic() - started) * 1000, 3)
                    return await _relay(request, call, resp, first, attempt, started, at, ttft)
                else:
                    data = wire.scrub(await resp.read(), key)
                    tally = Tally()
                    with contextlib.suppress(ValueError):
                        tally.feed_json(json.loads(data))
                    ctype = resp.headers.get("content-type", "")
                    # an error answer is not billed: no estimate stands in for usage it never had
                    used = call.tokens(tally) if status < 400 else {"finish_reason": tally.finish_reason}
                    call.record(attempt, started, at, http_status=status, response=(data, ctype), **used)
                    return web.Response(
                        body=data, status=status, headers=wire.client_headers(resp.headers, key)
                    )
            except wire.TRANSPORT_ERRORS as exc:
                kind, reason = wire.describe(exc)
                call.record(attempt, started, at, http_status=status, error=reason)
            finally:
                resp.release()
        if attempt > policy.max_retries or _gone(request):
            break
        delay = backoff_s(
            attempt, base_s=policy.backoff_base_s, cap_s=policy.backoff_cap_s, retry_after=wait_for
        )
        call.log.warning("proxy_retry", path=call.path, attempt=attempt, reason=reason, wait_s=delay)
        await asyncio.sleep(delay)
    tries = f"{reason} after {attempt} tr{'y' if attempt == 1 else 'ies'}"
    if kind == "timeout":
        return _failure(call, 504, "upstream_timeout", tries)
    return _failure(call, 502, "upstream_unavailable", tries)


async def _relay(
    request: web.Request,
    call: _Call,
    resp: aiohttp.ClientResponse,
    first: bytes,
    attempt: int,
    started: float,
    at: datetime,
    ttft_ms: float,
) -> web.StreamResponse:
    """Relay a 200 stream as it arrives; record the try when it ends however it ends."""
    key = call.cell.upstream.api_key
    tally, error, kept = Tally(), None, []
    out = web.StreamResponse(status=resp.status, headers=wire.client_headers(resp.headers, key))
    try:
        await out.prepare(request)
        chunk = first
        while chunk:
            chunk = wire.scrub(chunk, key)
            tally.feed_sse(chunk)
            kept.append(chunk)
            await out.write(chunk)
            chunk = await resp.content.readany()
    except ConnectionResetError:  # the agent hung up; aiohttp's ClientConnectionResetError included
        error = "client disconnected before the stream ended"
    except wire.TRANSPORT_ERRORS as exc:
        _, error = wire.describe(exc)
        call.cell.record.mark_infra(f"stream cut short: {error}")
        call.log.error("proxy_stream_broken", path=call.path, reason=error)
        body = wire.error_body(f"Upstream stream broke (infra): {error}", "upstream_stream")
        with contextlib.suppress(ConnectionResetError):
            await out.write(f"data: {json.dumps(body)}\n\n".encode())
    finally:  # recorded before the stream's end reaches the agent: a closed cell has every call
        tally.end_sse()
        call.record(
            attempt,
            started,
            at,
            http_status=resp.status,
            ttft_ms=ttft_ms,
            error=error,
            response=(b"".join(kept), resp.headers.get("content-type", SSE)),
            **call.tokens(tally),
        )
    with contextlib.suppress(ConnectionResetError):
        await out.write_eof()
    return out


async def _replay(request: web.Request, call: _Call) -> web.StreamResponse:
    """Answer from the cell's replay book; the answer is recorded like a live one (``replay`` set)."""
    started, at = time.monotonic(), datetime.now(UTC)
    found = call.cell.upstream.replay.take(call.common["request_hash"], call.path)  # type: ignore[union-attr]
    if found is None:
        call.record(1, started, at, error="replay: no recorded answer left for this request")
        return _failure(call, 502, "replay_miss", "replay: the agent made a call the recorded cell did not")
    ex, match = found
    tally, ttft = Tally(), None
    if ex.content_type.startswith(SSE):
        tally.feed_sse(ex.response_body)
        tally.end_sse()
        out = web.StreamResponse(status=ex.http_status, headers={"content-type": ex.content_type})
        await out.prepare(request)
        for event in ex.response_body.split(b"\n\n"):
            if event:
                await out.write(event + b"\n\n")
                ttft = ttft or round((time.monotonic() - started) * 1000, 3)
    else:
        with contextlib.suppress(ValueError):
            tally.feed_json(json.loads(ex.response_body))
        headers = {"content-type": ex.content_type} if ex.content_type else {}
        out = web.Response(body=ex.response_body, status=ex.http_status, headers=headers)
    call.record(
        1,
        started,
        at,
        http_status=ex.http_status,
        ttft_ms=ttft,
        replay=match,
        response=(ex.response_body, ex.content_type),
        **call.tokens(tally),
    )
    if isinstance(out, web.StreamResponse) and out.prepared:
        await out.write_eof()  # after the record, as for live streams
    return out
