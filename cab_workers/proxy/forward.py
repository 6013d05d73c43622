"""Forward one agent request upstream: retries before the first byte, relay after it, one record per try.

    try 1 ── 429/5xx/reset/timeout ──> record(error) ── wait (Retry-After or backoff) ──> try 2 ...
      │                                                          budget spent ──> 502/504 + infra
      └── answer ──> non-streamed: read whole, record, return
                     streamed (200): read the first chunk (still retryable), then relay chunk by
                     chunk; the record is written when the stream ends (or breaks, or the agent leaves)

Upstream 401/403 mean the proxy's own key is wrong: never relayed (the body may quote the key), the
agent gets 502 and the cell is marked infra at once.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio
import httpx
import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from cab_core.schema import TokenSource
from cab_workers.proxy import wire
from cab_workers.proxy.backoff import backoff_s, retry_after_s, retryable
from cab_workers.proxy.cells import OpenCell
from cab_workers.proxy.usage import Tally, request_hash

log = structlog.get_logger(__name__)

TOKEN_PATHS = frozenset({"chat/completions", "completions", "responses"})
"""Paths whose calls carry token usage (``models`` does not)."""


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 4
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0


@dataclass
class _Call:
    """One agent request, as forwarded."""

    cell: OpenCell
    rest: str
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    parsed: Any
    common: dict[str, Any]
    log: Any
    """structlog logger bound to the cell id (stream records outlive the handler's contextvars)."""

    def record(self, attempt: int, started: float, at: datetime, **fields: Any) -> None:
        latency = round((time.monotonic() - started) * 1000, 3)
        call = self.cell.record.add(
            **self.common, upstream_attempt=attempt, timestamp=at, latency_ms=latency, **fields
        )
        self.log.info(
            "proxy_call",
            seq=call.seq,
            path=call.endpoint_path,
            attempt=attempt,
            status=call.http_status,
            error=call.error,
            latency_ms=latency,
            prompt_tokens=call.prompt_tokens,
            completion_tokens=call.completion_tokens,
        )

    def tokens(self, tally: Tally) -> dict[str, Any]:
        fields: dict[str, Any] = {"finish_reason": tally.finish_reason}
        return {**fields, **tally.fields(self.parsed)} if self.rest in TOKEN_PATHS else fields


def _prepare(request: Request, raw: bytes, cell: OpenCell, rest: str) -> _Call:
    try:
        parsed = json.loads(raw) if raw else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        parsed = None
    obj = parsed if isinstance(parsed, dict) else {}
    query = f"?{request.url.query}" if request.url.query else ""
    common = {
        "request_hash": request_hash(raw, parsed),
        "model": str(obj.get("model") or ""),
        "endpoint_path": f"/v1/{rest}",
        "stream": bool(obj.get("stream")),
        "source": TokenSource.proxy,
    }
    return _Call(
        cell=cell,
        rest=rest,
        method=request.method,
        url=cell.upstream.url(rest) + query,
        headers=wire.upstream_headers(request.headers, cell.upstream.api_key, cell.token),
        body=wire.upstream_body(raw, parsed, rest, cell.upstream.model_map),
        parsed=parsed,
        common=common,
        log=log.bind(cell_id=cell.record.cell_id),
    )


def _failure(call: _Call, status: int, code: str, message: str) -> JSONResponse:
    call.cell.record.mark_infra(message)
    call.log.error("proxy_upstream_failed", path=call.common["endpoint_path"], status=status, reason=message)
    return JSONResponse(wire.error_body(f"Upstream model endpoint failure (infra): {message}", code), status)


async def forward(
    request: Request, client: httpx.AsyncClient, policy: RetryPolicy, cell: OpenCell, rest: str
) -> Response:
    """Answer one agent request through the cell's upstream."""
    call = _prepare(request, await request.body(), cell, rest)
    key = cell.upstream.api_key
    kind, reason = "transport", "no attempt made"
    for attempt in range(1, policy.max_retries + 2):
        started, at = time.monotonic(), datetime.now(UTC)
        wait_for: float | None = None
        req = client.build_request(call.method, call.url, headers=call.headers, content=call.body)
        try:
            resp = await client.send(req, stream=True)
        except httpx.TransportError as exc:
            kind, reason = wire.describe(exc)
            call.record(attempt, started, at, error=reason)
        else:
            status, relayed = resp.status_code, False
            try:
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
                if retryable(status):
                    await resp.aread()
                    kind, reason = "status", f"upstream answered {status}"
                    wait_for = retry_after_s(resp.headers.get("retry-after"))
                    call.record(attempt, started, at, http_status=status, error=reason)
                elif call.common["stream"] and status == 200:
                    chunks = resp.aiter_bytes()
                    first = await anext(chunks, b"")
                    ttft = round((time.monotonic() - started) * 1000, 3)
                    relay = _relay(call, resp, chunks, first, attempt, started, at, ttft)
                    relayed = True
                    return StreamingResponse(relay, status, headers=wire.client_headers(resp.headers, key))
                else:
                    data = await resp.aread()
                    tally = Tally()
                    try:
                        tally.feed_json(json.loads(data))
                    except (json.JSONDecodeError, UnicodeDecodeError):
                        pass
                    call.record(attempt, started, at, http_status=status, **call.tokens(tally))
                    return Response(
                        wire.scrub(data, key), status, headers=wire.client_headers(resp.headers, key)
                    )
            except httpx.TransportError as exc:
                kind, reason = wire.describe(exc)
                call.record(attempt, started, at, http_status=status, error=reason)
            finally:
                if not relayed:
                    await resp.aclose()
        if attempt > policy.max_retries or await request.is_disconnected():
            break
        delay = backoff_s(
            attempt, base_s=policy.backoff_base_s, cap_s=policy.backoff_cap_s, retry_after=wait_for
        )
        call.log.warning(
            "proxy_retry", path=call.common["endpoint_path"], attempt=attempt, reason=reason, wait_s=delay
        )
        await asyncio.sleep(delay)
    tries = f"{reason} after {attempt} tr{'y' if attempt == 1 else 'ies'}"
    if kind == "timeout":
        return _failure(call, 504, "upstream_timeout", tries)
    return _failure(call, 502, "upstream_unavailable", tries)


async def _relay(
    call: _Call,
    resp: httpx.Response,
    chunks: AsyncIterator[bytes],
    first: bytes,
    attempt: int,
    started: float,
    at: datetime,
    ttft_ms: float,
) -> AsyncIterator[bytes]:
    """Relay a 200 stream as it arrives; record the try when it ends however it ends."""
    key = call.cell.upstream.api_key
    tally, error = Tally(), None
    try:
        tally.feed_sse(first)
        yield wire.scrub(first, key)
        async for chunk in chunks:
            tally.feed_sse(chunk)
            yield wire.scrub(chunk, key)
    except httpx.TransportError as exc:
        _, error = wire.describe(exc)
        call.cell.record.mark_infra(f"stream cut short: {error}")
        call.log.error("proxy_stream_broken", path=call.common["endpoint_path"], reason=error)
        body = wire.error_body(f"Upstream stream broke (infra): {error}", "upstream_stream")
        yield f"data: {json.dumps(body)}\n\n".encode()
    except BaseException:
        error = "client disconnected before the stream ended"
        raise
    finally:
        tally.end_sse()
        with anyio.CancelScope(shield=True):
            await resp.aclose()
        call.record(
            attempt,
            started,
            at,
            http_status=resp.status_code,
            ttft_ms=ttft_ms,
            error=error,
            **call.tokens(tally),
        )
