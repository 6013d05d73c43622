"""One agent request as the proxy forwards it: the body sent upstream, the headers, and one
``ModelCall`` record per upstream try (``Call.record``), or the infra failure the agent is answered
with (``Call.fail``).

A try still in flight when the cell closes (the agent's deadline or exit), when the agent hangs up, or
when the proxy stops is recorded as cut short (``Call.record_cut``): ``error`` says which (``CUT_*``),
``http_status`` is the status the agent had been answered with (200: a stream it was reading) or None
(it had got nothing), latency runs to the cut, ``ttft_ms`` is set when a first chunk had arrived, and
the tokens are what the answer carried so far, estimated; a count with nothing to estimate from is
None (unknown), never 0. The agent's end is not the endpoint's fault: the cell is not marked infra.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from aiohttp import web

from cab_core.schema import TokenSource
from cab_workers.proxy import sampling, wire
from cab_workers.proxy.cells import OpenCell
from cab_workers.proxy.usage import Tally, request_hash

log = structlog.get_logger(__name__)

TOKEN_PATHS = frozenset({"chat/completions", "completions", "responses"})
"""Paths whose calls carry token usage (``models`` does not)."""
SSE = "text/event-stream"

CUT_CELL_ENDED = "cut short: the cell ended (agent deadline or exit) while the call was in flight"
CUT_AGENT_GONE = "cut short: the agent disconnected while the call was in flight"
CUT_PROXY_STOPPED = "cut short: the proxy stopped while the call was in flight"


@dataclass
class Call:
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
    dropped_usage: bool = False
    """The endpoint answered 400/422 to the body with the proxy's ``stream_options``, so it went again
    without them; the endpoint is remembered as refusing them only if that resend is answered."""
    queued_ms: float | None = None
    recorded: int = 0
    """Rows recorded for this request so far (a try that was cut records itself only if it had not)."""

    @property
    def path(self) -> str:
        return str(self.common["endpoint_path"])

    @property
    def forced(self) -> dict[str, Any]:
        """The sampling parameters cab sets in the body sent upstream (the upstream's override)."""
        forced: dict[str, Any] = self.common["sampling_forced"]
        return forced

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
        self.recorded += 1
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

    def cut_reason(self, agent_gone: bool) -> str:
        """Why a try in flight was stopped: the cell's end, else the agent hanging up, else shutdown."""
        if self.cell.record.closing:
            return CUT_CELL_ENDED
        return CUT_AGENT_GONE if agent_gone else CUT_PROXY_STOPPED

    def record_cut(
        self,
        attempt: int,
        started: float,
        at: datetime,
        reason: str,
        *,
        tally: Tally | None,
        response: tuple[bytes, str] | None = None,
        **fields: Any,
    ) -> None:
        """Record a try cut short by ``reason``; ``tally``: what its answer carried so far (None: the
        request never went upstream, so it cost nothing)."""
        self.record(attempt, started, at, error=reason, response=response, **self.cut_tokens(tally), **fields)
        # the agent's own end (its deadline, its exit): recorded on the call, no fault of cab's to warn of
        self.log.info("proxy_call_cut", path=self.path, attempt=attempt, reason=reason)

    def cut_tokens(self, tally: Tally | None) -> dict[str, Any]:
        """Token fields of a cut try: the usage if it came, else estimates of the prompt and of what the
        answer carried; an estimate of nothing is None (unknown: the model may have been generating)."""
        if tally is None:
            return {}
        tally.end_sse()
        fields = self.tokens(tally)
        if fields.get("estimated"):
            for name in ("prompt_tokens", "completion_tokens"):
                fields[name] = fields[name] or None
        return fields

    def tokens(self, tally: Tally) -> dict[str, Any]:
        fields: dict[str, Any] = {"finish_reason": tally.finish_reason}
        return {**fields, **tally.fields(self.parsed)} if self.rest in TOKEN_PATHS else fields

    def fail(self, status: int, code: str, message: str) -> web.Response:
        """Mark the cell infra and answer the agent ``status`` with an OpenAI-style error body."""
        self.cell.record.mark_infra(message)
        self.log.error("proxy_upstream_failed", path=self.path, status=status, reason=message)
        body = wire.error_body(f"Upstream model endpoint failure (infra): {message}", code)
        return web.json_response(body, status=status)


def prepare(request: web.Request, raw: bytes, cell: OpenCell, rest: str, ask_usage: bool) -> Call:
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:  # JSONDecodeError, UnicodeDecodeError, and an integer past int_max_str_digits
        parsed = None
    obj = parsed if isinstance(parsed, dict) else {}
    query = f"?{request.query_string}" if request.query_string else ""
    forced = sampling.forced(parsed, cell.upstream.sampling, rest)
    common = {
        "request_hash": request_hash(raw, parsed),
        "model": str(obj.get("model") or ""),
        "endpoint_path": f"/v1/{rest}",
        "stream": bool(obj.get("stream")),
        "source": TokenSource.proxy.value,  # a plain str: rows of atomics stay out of the GC
        "sampling": sampling.sent(parsed),  # one dict per request, shared by the rows of its tries
        "sampling_forced": forced,
    }
    upstream = cell.upstream
    body, asked = wire.upstream_body(
        raw, parsed, rest, upstream.model_map, ask_usage=ask_usage, forced=forced
    )
    return Call(
        cell=cell,
        rest=rest,
        method=request.method,
        url=upstream.url(rest) + query,
        headers=wire.upstream_headers(request.headers, upstream.api_key, cell.token, upstream.headers),
        raw=raw,
        body=body,
        parsed=parsed,
        common=common,
        log=log.bind(cell_id=cell.record.cell_id),
        asked_usage=asked,
    )
