"""Forward one agent request upstream: retries before the first byte, relay after it, one record per try.

    cap slot (per endpoint, optional) ── try 1 ── 429/5xx/reset/timeout ──> record(error)
      │                                    │         ── wait (Retry-After or backoff) ──> try 2 ...
      │                                    │                      budget spent ──> 502/504 + infra
      │                                    └── answer ──> non-streamed: read whole, record, return
      │                                                   streamed (200): read the first chunk (still
      │                                                   retryable), then relay chunk by chunk; the
      │                                                   record is written when the stream ends
      └── replay book instead of an endpoint: the recorded answer, recorded again

A call the caller cancels (``CellRecord.close`` at the cell's end, or aiohttp when the agent hangs up)
records the try in flight as cut short (``Call.record_cut``) and closes its upstream connection, so the
endpoint stops generating; tries that fail after the agent hung up do not mark the cell infra.

Upstream 401/403 mean the proxy's own key is wrong: never relayed (the body may quote the key), the
agent gets 502 and the cell is marked infra at once. A 400/422 to a stream the proxy added
``stream_options`` to is sent again at once without them; when that resend is answered, the endpoint
is not asked again (a 400 the resend gets too was about the request, not about ``stream_options``:
llama-server's context overflow, a bad ``max_tokens``). Every error answer is recorded with what the
endpoint said, classified (``upstream_error.describe``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aiohttp
import structlog
from aiohttp import web

from cab_workers.proxy import upstream_error, wire
from cab_workers.proxy.backoff import backoff_s, retry_after_s, retryable
from cab_workers.proxy.call import SSE, Call, prepare
from cab_workers.proxy.cells import OpenCell
from cab_workers.proxy.limits import Limiter, LimiterError, SlotTimeout
from cab_workers.proxy.replay import ReplayBook
from cab_workers.proxy.usage import Tally

log = structlog.get_logger(__name__)


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


def _gone(request: web.Request) -> bool:
    """The agent hung up (its connection is closed or closing)."""
    transport = request.transport
    return transport is None or transport.is_closing()


async def forward(request: web.Request, state: ProxyState, cell: OpenCell, rest: str) -> web.StreamResponse:
    """Answer one agent request through the cell's upstream (or its replay book); the caller has
    counted it in flight (``CellRecord.begin``)."""
    upstream = cell.upstream
    ask_usage = upstream.base_url not in state.refuses_stream_options
    call = prepare(request, await request.read(), cell, rest, ask_usage)
    if upstream.replay is not None:
        return await _replay(request, call, upstream.replay)
    async with contextlib.AsyncExitStack() as stack:
        if upstream.concurrency:
            waiting, at = time.monotonic(), datetime.now(UTC)
            try:
                call.queued_ms = round(
                    await stack.enter_async_context(
                        state.limiter.slot(upstream.limit_name, upstream.concurrency, state.slot_wait_s)
                    ),
                    3,
                )
            except (SlotTimeout, LimiterError) as e:
                call.record(1, time.monotonic(), datetime.now(UTC), error=str(e))
                return call.fail(503, "endpoint_cap", f"endpoint concurrency cap: {e}")
            except asyncio.CancelledError:  # cut while queued: never sent, so it cost nothing
                call.queued_ms = round((time.monotonic() - waiting) * 1000, 3)
                call.record_cut(1, waiting, at, call.cut_reason(_gone(request)), tally=None)
                raise
        return await _tries(request, state, call)
    raise AssertionError("unreachable")  # pragma: no cover - the stack never swallows


@dataclass(frozen=True)
class _Miss:
    """A try that did not answer the agent: why (``kind``: transport, timeout or status), and the wait
    the endpoint asked for (``Retry-After``)."""

    kind: str
    reason: str
    wait_for: float | None = None


@dataclass(frozen=True)
class _Try:
    """Which try this is and when it started (for its record)."""

    attempt: int
    started: float
    """``time.monotonic()`` at the start."""
    at: datetime


_AGAIN = _Miss("again", "sent again without stream_options")
"""The endpoint refused ``stream_options``: send again at once, no retry spent, the last miss stands."""


async def _tries(request: web.Request, state: ProxyState, call: Call) -> web.StreamResponse:
    """Try until an answer, the retry budget is spent or the agent hangs up; then 502/504 (infra)."""
    policy = state.policy
    kind, reason = "transport", "no attempt made"
    attempt = 0
    while attempt <= policy.max_retries:
        attempt += 1
        outcome = await _try(request, state, call, attempt)
        if isinstance(outcome, web.StreamResponse):
            return outcome
        if outcome is _AGAIN:
            attempt -= 1  # the endpoint's dialect, not a fault: no retry is spent
            continue
        kind, reason = outcome.kind, outcome.reason
        if attempt > policy.max_retries or _gone(request):
            break
        delay = backoff_s(
            attempt, base_s=policy.backoff_base_s, cap_s=policy.backoff_cap_s, retry_after=outcome.wait_for
        )
        call.log.warning("proxy_retry", path=call.path, attempt=attempt, reason=reason, wait_s=delay)
        await asyncio.sleep(delay)
    tries = f"{reason} after {attempt} tr{'y' if attempt == 1 else 'ies'}"
    if _gone(request):  # nobody to answer, and a failure the agent never saw did not end it: not infra
        call.log.warning("proxy_agent_gone", path=call.path, reason=tries)
        return web.Response(status=499)
    if kind == "timeout":
        return call.fail(504, "upstream_timeout", tries)
    return call.fail(502, "upstream_unavailable", tries)


async def _try(
    request: web.Request, state: ProxyState, call: Call, attempt: int
) -> web.StreamResponse | _Miss:
    """One upstream try, recorded: the agent's answer, or why there is none yet."""
    started, at = time.monotonic(), datetime.now(UTC)
    rows = call.recorded
    try:
        resp = await state.session.request(call.method, call.url, headers=call.headers, data=call.body)
    except wire.TRANSPORT_ERRORS as exc:
        kind, reason = wire.describe(exc)
        call.record(attempt, started, at, error=reason)
        return _Miss(kind, reason)
    except asyncio.CancelledError:  # aiohttp closes the connection: the endpoint stops
        _cut(request, call, _Try(attempt, started, at), rows)
        raise
    try:
        return await _answer(request, state, call, resp, _Try(attempt, started, at))
    except wire.TRANSPORT_ERRORS as exc:
        kind, reason = wire.describe(exc)
        call.record(attempt, started, at, http_status=resp.status, error=reason)
        return _Miss(kind, reason)
    except asyncio.CancelledError:
        _cut(request, call, _Try(attempt, started, at), rows)
        resp.close()  # the answer is unfinished: never back to the pool, the endpoint stops
        raise
    finally:
        resp.release()


def _cut(request: web.Request, call: Call, t: _Try, rows: int) -> None:
    """Record a try cut short before its answer reached the agent (nothing of it is known: the prompt
    is estimated, the completion unknown), unless it recorded itself (a relayed stream does)."""
    if call.recorded == rows:
        call.record_cut(t.attempt, t.started, t.at, call.cut_reason(_gone(request)), tally=Tally())


async def _answer(
    request: web.Request, state: ProxyState, call: Call, resp: aiohttp.ClientResponse, t: _Try
) -> web.StreamResponse | _Miss:
    """What to do with an upstream response: refuse a bad key, resend without ``stream_options``,
    retry a retryable status, relay a stream, or return the whole answer."""
    status, key = resp.status, call.cell.upstream.api_key
    if status in (401, 403):
        call.record(
            t.attempt, t.started, t.at, http_status=status, error=f"upstream rejected the key ({status})"
        )
        return call.fail(502, "upstream_auth", f"the endpoint rejected the proxy's key ({status})")
    if status in (400, 422) and call.asked_usage:
        said = upstream_error.describe(status, wire.scrub(await resp.read(), key))
        error = f"{said}; sent again without the proxy's stream_options"
        call.record(t.attempt, t.started, t.at, http_status=status, error=error)
        call.dropped_usage = True
        upstream = call.cell.upstream
        call.body, call.asked_usage = wire.upstream_body(
            call.raw, call.parsed, call.rest, upstream.model_map, ask_usage=False, forced=call.forced
        )
        return _AGAIN
    if call.dropped_usage and status < 400:  # the resend went through: stream_options were refused
        state.refuses_stream_options.add(call.cell.upstream.base_url)
    if retryable(status) and not upstream_error.about_the_request(status, await resp.read()):
        said = upstream_error.describe(status, wire.scrub(await resp.read(), key))
        miss = _Miss("status", f"upstream answered {status}", retry_after_s(resp.headers.get("retry-after")))
        call.record(t.attempt, t.started, t.at, http_status=status, error=f"{miss.reason}: {said}")
        return miss
    if call.common["stream"] and status == 200:
        first = await resp.content.readany()
        return await _relay(request, call, resp, first, t.attempt, t.started, t.at)
    data = wire.scrub(await resp.read(), key)
    tally = Tally()
    with contextlib.suppress(ValueError):
        tally.feed_json(json.loads(data))
    ctype = resp.headers.get("content-type", "")
    # an error answer is not billed: no estimate stands in for usage it never had
    used = call.tokens(tally) if status < 400 else {"finish_reason": tally.finish_reason}
    refused = upstream_error.describe(status, data) if status >= 400 else None
    call.record(t.attempt, t.started, t.at, http_status=status, error=refused, response=(data, ctype), **used)
    return web.Response(body=data, status=status, headers=wire.client_headers(resp.headers, key))


async def _relay(
    request: web.Request,
    call: Call,
    resp: aiohttp.ClientResponse,
    first: bytes,
    attempt: int,
    started: float,
    at: datetime,
) -> web.StreamResponse:
    """Relay a 200 stream as it arrives; record the try when it ends however it ends (cut short: with
    what it carried so far). A stream whose own end event came is answered, even when the agent hangs
    up before the endpoint closes it (codex drops the connection on ``response.completed``). TTFT is
    the time to the first ``data:`` event: a server's keep-alive comments while it reads a long prompt
    (llama-server's every 30 s) are not a first token."""
    key = call.cell.upstream.api_key
    tally, error, kept, cut = Tally(), None, [], None
    ttft_ms: float | None = None
    out = web.StreamResponse(status=resp.status, headers=wire.client_headers(resp.headers, key))
    try:
        await out.prepare(request)
        chunk = first
        while chunk:
            if ttft_ms is None and b"data:" in chunk:
                ttft_ms = round((time.monotonic() - started) * 1000, 3)
            chunk = wire.scrub(chunk, key)
            tally.feed_sse(chunk)
            kept.append(chunk)
            await out.write(chunk)
            chunk = await resp.content.readany()
    except ConnectionResetError:  # the agent hung up; aiohttp's ClientConnectionResetError included
        cut = None if tally.ended else call.cut_reason(agent_gone=True)
        resp.close()  # the endpoint stops generating for nobody
    except asyncio.CancelledError:  # the cell ended, the agent hung up (aiohttp cancels), or shutdown
        cut = None if tally.ended else call.cut_reason(_gone(request))
        raise
    except wire.TRANSPORT_ERRORS as exc:
        _, error = wire.describe(exc)
        call.cell.record.mark_infra(f"stream cut short: {error}")
        call.log.error("proxy_stream_broken", path=call.path, reason=error)
        body = wire.error_body(f"Upstream stream broke (infra): {error}", "upstream_stream")
        with contextlib.suppress(ConnectionResetError):
            await out.write(f"data: {json.dumps(body)}\n\n".encode())
    finally:  # recorded before the stream's end reaches the agent: a closed cell has every call
        tally.end_sse()
        shown = {"http_status": resp.status, "ttft_ms": ttft_ms}
        relayed = (b"".join(kept), resp.headers.get("content-type", SSE))
        if cut is not None:
            call.record_cut(attempt, started, at, cut, tally=tally, response=relayed, **shown)
        else:
            error = error or (tally.error and f"error event in the stream: {tally.error}")
            call.record(attempt, started, at, error=error, response=relayed, **shown, **call.tokens(tally))
    with contextlib.suppress(ConnectionResetError):
        await out.write_eof()
    return out


async def _replay(request: web.Request, call: Call, book: ReplayBook) -> web.StreamResponse:
    """Answer from the cell's replay book; the answer is recorded like a live one (``replay`` set)."""
    started, at = time.monotonic(), datetime.now(UTC)
    found = book.take(call.common["request_hash"], call.path)
    if found is None:
        call.record(1, started, at, error="replay: no recorded answer left for this request")
        return call.fail(502, "replay_miss", "replay: the agent made a call the recorded cell did not")
    ex, match = found
    stream = ex.content_type.startswith(SSE)
    tally, ttft = Tally.of(ex.response_body, stream), None
    if stream:
        out = web.StreamResponse(status=ex.http_status, headers={"content-type": ex.content_type})
        await out.prepare(request)
        for event in ex.response_body.split(b"\n\n"):
            if event:
                await out.write(event + b"\n\n")
                ttft = ttft or round((time.monotonic() - started) * 1000, 3)
    else:
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
