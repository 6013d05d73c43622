"""One agent request as the proxy forwards it: the body sent upstream, the headers, and one
``ModelCall`` record per upstream try (``Call.record``), or the infra failure the agent is answered
with (``Call.fail``)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from aiohttp import web

from cab_core.schema import TokenSource
from cab_workers.proxy import wire
from cab_workers.proxy.cells import OpenCell
from cab_workers.proxy.usage import Tally, request_hash

log = structlog.get_logger(__name__)

TOKEN_PATHS = frozenset({"chat/completions", "completions", "responses"})
"""Paths whose calls carry token usage (``models`` does not)."""
SSE = "text/event-stream"


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
    common = {
        "request_hash": request_hash(raw, parsed),
        "model": str(obj.get("model") or ""),
        "endpoint_path": f"/v1/{rest}",
        "stream": bool(obj.get("stream")),
        "source": TokenSource.proxy.value,  # a plain str: rows of atomics stay out of the GC
    }
    upstream = cell.upstream
    body, asked = wire.upstream_body(raw, parsed, rest, upstream.model_map, ask_usage=ask_usage)
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
