"""What crosses the proxy: header filters both ways, the upstream body, error bodies, error names.

The one edge where aiohttp's client exceptions are translated (``describe``): every exception in
``TRANSPORT_ERRORS`` becomes a short kind (``timeout`` or ``transport``) and a one-line message
without URLs or headers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import aiohttp

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
DROP_REQUEST = HOP_BY_HOP | {"host", "content-length", "authorization", "api-key", "x-api-key", "cookie"}
"""Request headers never forwarded: credentials are replaced by the real key, framing is aiohttp's."""
DROP_RESPONSE = HOP_BY_HOP | {"content-length", "content-encoding", "date", "server", "set-cookie"}
"""Response headers never relayed: framing and identity are uvicorn's; bodies arrive decoded."""
USAGE_STREAMS = ("chat/completions", "completions")
"""Paths whose streams get ``stream_options.include_usage`` added when the agent did not ask."""


def upstream_headers(
    headers: Mapping[str, str],
    api_key: str | None,
    cell_token: str,
    fixed: tuple[tuple[str, str], ...] = (),
) -> dict[str, str]:
    """Agent headers minus credentials and framing (and anything carrying the cell token), plus the key
    and cab's ``fixed`` headers (``Upstream.headers``), which replace any the agent sent by that name."""
    ours = {k.lower() for k, _ in fixed}
    out = {
        k: v
        for k, v in headers.items()
        if k.lower() not in DROP_REQUEST | ours and cell_token not in v and k.lower() != "accept-encoding"
    }
    out.update(fixed)
    out["accept-encoding"] = "identity"  # relay bytes as they come; no re-compression
    if api_key:
        out["authorization"] = f"Bearer {api_key}"
    return out


def client_headers(headers: Mapping[str, str], api_key: str | None) -> dict[str, str]:
    """Upstream response headers fit to relay, minus any that would echo the real key."""
    return {
        k: v for k, v in headers.items() if k.lower() not in DROP_RESPONSE and not (api_key and api_key in v)
    }


def scrub(data: bytes, api_key: str | None) -> bytes:
    """``data`` with the real key masked (an upstream echoing it back must not leak it to the agent)."""
    if api_key and api_key.encode() in data:
        return data.replace(api_key.encode(), b"***")
    return data


def upstream_body(
    raw: bytes,
    parsed: Any,
    rest: str,
    model_map: dict[str, str] | None,
    *,
    ask_usage: bool = True,
    forced: Mapping[str, Any] | None = None,
) -> tuple[bytes, bool]:
    """The body sent upstream, and whether usage was asked for on the agent's behalf.

    The model is renamed by ``model_map``; ``forced`` keys (cab's sampling parameters) replace the
    agent's; a stream that did not ask for usage gets ``stream_options.include_usage`` (unless
    ``ask_usage`` is off: the endpoint refused it before). The body is ``raw`` itself when nothing changed.
    """
    if not isinstance(parsed, dict):
        return raw, False
    body = {**parsed, **(forced or {})}
    model = body.get("model")
    if isinstance(model, str) and model_map and model in model_map:
        body["model"] = model_map[model]
    options = body.get("stream_options")
    asked = bool(
        ask_usage
        and body.get("stream")
        and rest in USAGE_STREAMS
        and not (isinstance(options, dict) and options.get("include_usage"))
    )
    if asked:
        body["stream_options"] = {**(options if isinstance(options, dict) else {}), "include_usage": True}
    same = body == parsed and not forced  # forced values go out as cab's (0.0 == 0, but True == 1 too)
    return (raw if same else json.dumps(body).encode()), asked


def error_body(message: str, code: str) -> dict[str, Any]:
    """OpenAI-shaped error body for failures the proxy itself reports."""
    return {"error": {"message": message, "type": "upstream_error", "param": None, "code": code}}


TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (aiohttp.ClientError, TimeoutError, ConnectionError)
"""What a try against the upstream can raise besides an HTTP answer; ``describe`` names each."""

_TRANSPORT_NAMES: Iterable[tuple[type[BaseException], str]] = (
    (aiohttp.ClientConnectorError, "connect"),
    (aiohttp.ServerDisconnectedError, "disconnected"),
    (aiohttp.ClientPayloadError, "payload"),
    (aiohttp.ClientOSError, "reset"),
    (ConnectionError, "reset"),
)


def describe(exc: BaseException) -> tuple[str, str]:
    """(kind, message) of a transport failure: kind ``timeout`` (-> 504) or ``transport`` (-> 502)."""
    if isinstance(exc, TimeoutError):  # aiohttp's ServerTimeoutError / ConnectionTimeoutError included
        what = "connect" if isinstance(exc, aiohttp.ConnectionTimeoutError) else "read"
        return "timeout", f"upstream timed out ({what})"
    what = next((name for cls, name in _TRANSPORT_NAMES if isinstance(exc, cls)), type(exc).__name__)
    return "transport", f"upstream connection failed ({what})"
