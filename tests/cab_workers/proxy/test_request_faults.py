"""A 500 that is about the request, not the server: llama-server answers ``500 Failed to parse tool call
arguments as JSON`` to a history holding a tool call its own answer cut short (``finish_reason:
length``). Retrying cannot help (the same request fails the same way): the proxy relays it at once and
the cell is not infra; a plain 500 is still retried."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest

from cab_core.settings import ProxySettings
from cab_workers.proxy import ModelProxy, Upstream
from cab_workers.proxy.upstream_error import about_the_request, describe

from .raw_server import Handler, read_request, serving

pytestmark = pytest.mark.unit

PARSE = json.dumps(
    {
        "error": {
            "code": 500,
            "message": "Failed to parse tool call arguments as JSON: [json.exception.parse_error.101]",
            "type": "server_error",
        }
    }
).encode()
CRASH = json.dumps(
    {"error": {"code": 500, "message": "llama_decode failed", "type": "server_error"}}
).encode()


@pytest.mark.parametrize(
    ("status", "body", "want"),
    [(500, PARSE, True), (500, CRASH, False), (503, PARSE, False), (400, PARSE, False)],
)
def test_only_a_5xx_about_the_request_content_is_told_apart(status: int, body: bytes, want: bool) -> None:
    assert about_the_request(status, body) is want


def test_it_is_recorded_as_a_bad_request() -> None:
    assert describe(500, PARSE).startswith("bad_request (500 server_error): Failed to parse tool call")


def answering(body: bytes, seen: list[int]) -> Handler:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        seen.append(1)
        writer.write(
            b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\n"
            + f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()

    return serve


@pytest.mark.parametrize(("body", "tries", "infra"), [(PARSE, 1, False), (CRASH, 3, True)])
def test_the_proxy_relays_a_request_fault_at_once_and_retries_a_crash(
    body: bytes, tries: int, infra: bool
) -> None:
    settings = ProxySettings(max_retries=2, backoff_base_s=0.01)
    seen: list[int] = []
    with serving(answering(body, seen)) as url, ModelProxy(config=settings) as proxy:
        grant = proxy.open_cell(f"s/t/m/c/{uuid.uuid4().hex[:6]}", Upstream(url))
        payload = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
        headers = {"Authorization": f"Bearer {grant.token}"}
        resp = httpx.post(f"{grant.base_url()}/chat/completions", json=payload, headers=headers, timeout=30)
        calls = proxy.close_cell(grant.token)
    assert len(seen) == len(calls) == tries
    assert (grant.record.infra_failure is not None) is infra
    if not infra:
        assert resp.status_code == 500 and b"Failed to parse tool call" in resp.content
        assert calls[0].error is not None and calls[0].error.startswith("bad_request (500")
