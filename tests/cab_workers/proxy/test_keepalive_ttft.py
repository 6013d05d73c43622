"""TTFT is the time to the first ``data:`` event: llama-server sends SSE keep-alive comments while it
reads a long prompt, and those bytes are no first token (before this, a 107 s prompt read as 30 s)."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from cab_core.settings import ProxySettings
from cab_workers.proxy import ModelProxy, Upstream

from .raw_server import read_request, serving

pytestmark = pytest.mark.unit

PROMPT_S = 0.4
"""How long the fake server 'reads the prompt' between its keep-alive comment and its first token."""
EVENTS = (
    b'data: {"object":"chat.completion.chunk",'
    b'"choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"}}]}\n\n'
    b'data: {"object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n'
    b'data: {"object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":1,'
    b'"total_tokens":10}}\n\ndata: [DONE]\n\n'
)


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n")
    writer.write(b": keep-alive\n\n")  # what a server says while it is still reading the prompt
    await writer.drain()
    await asyncio.sleep(PROMPT_S)  # the model reading a long prompt (the server's behaviour, no sync)
    writer.write(EVENTS)
    await writer.drain()
    writer.close()


def test_a_keep_alive_comment_is_not_the_first_token() -> None:
    with serving(_serve) as url, ModelProxy(config=ProxySettings(max_retries=0)) as proxy:
        grant = proxy.open_cell(f"s/t/m/c/{uuid.uuid4().hex[:6]}", Upstream(url))
        body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}
        headers = {"Authorization": f"Bearer {grant.token}"}
        resp = httpx.post(f"{grant.base_url()}/chat/completions", json=body, headers=headers, timeout=30)
        assert resp.status_code == 200 and b"[DONE]" in resp.content
        (call,) = proxy.close_cell(grant.token)
    assert call.ttft_ms is not None and call.ttft_ms >= PROMPT_S * 1000, call.ttft_ms
    assert (call.prompt_tokens, call.completion_tokens, call.estimated) == (9, 1, False)
