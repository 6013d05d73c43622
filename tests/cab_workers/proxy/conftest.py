"""Fixtures for the proxy tests: a keyed scripted endpoint, a header-echo upstream, a proxy."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cab_core.settings import ProxySettings
from cab_endpoint import ScriptedEndpoint
from cab_workers.proxy import CellGrant, ModelProxy

FIXTURE_TASKS = Path(__file__).parents[2] / "cab_endpoint" / "fixtures" / "tasks"
REAL_KEY = "sk-real-endpoint-key-0123456789abcdef"
RESPONSES_USAGE = {
    "input_tokens": 11,
    "output_tokens": 7,
    "input_tokens_details": {"cached_tokens": 3},
    "output_tokens_details": {"reasoning_tokens": 2},
}


@contextmanager
def serve(app: Any, tls: tuple[Path, Path] | None = None) -> Iterator[str]:
    """Serve an ASGI app on 127.0.0.1 in a thread (over HTTPS with ``tls``: cert and key files);
    yields its ``/v1`` base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    certs = {"ssl_certfile": str(tls[0]), "ssl_keyfile": str(tls[1])} if tls else {}
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="off", **certs))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        thread.join(0.01)
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{sock.getsockname()[1]}/v1"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


class EchoUpstream:
    """A fake upstream that keeps every request's headers and answers /v1/responses with usage."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []

        async def responses(request: Request) -> Response:
            self.seen.append(dict(request.headers))
            body = await request.json()
            return JSONResponse(
                {
                    "id": "resp_1",
                    "object": "response",
                    "model": body.get("model"),
                    "status": "completed",
                    "output": [],
                    "usage": RESPONSES_USAGE,
                }
            )

        self.app = Starlette(routes=[Route("/v1/responses", responses, methods=["POST"])])


@pytest.fixture(scope="module")
def endpoint() -> Iterator[ScriptedEndpoint]:
    with ScriptedEndpoint(FIXTURE_TASKS, api_key=REAL_KEY) as ep:
        yield ep


@pytest.fixture(scope="module")
def proxy() -> Iterator[ModelProxy]:
    with ModelProxy(
        config=ProxySettings(max_retries=2, backoff_base_s=0.01, backoff_cap_s=2, upstream_timeout_s=5)
    ) as p:
        yield p


@pytest.fixture(scope="module")
def echo() -> Iterator[tuple[EchoUpstream, str]]:
    upstream = EchoUpstream()
    with serve(upstream.app) as url:
        yield upstream, url


def post(
    grant: CellGrant, payload: dict[str, Any], path: str = "chat/completions", timeout: float = 30
) -> httpx.Response:
    """A call through the proxy with the cell's token, as its agent makes it."""
    headers = {"Authorization": f"Bearer {grant.token}"}
    return httpx.post(f"{grant.base_url()}/{path}", json=payload, headers=headers, timeout=timeout)


def objects(resp: httpx.Response) -> list[dict[str, Any]]:
    """The JSON objects of an SSE answer's ``data:`` events (``[DONE]`` left out)."""
    lines = [ln[6:] for ln in resp.text.split("\n") if ln.startswith("data: ")]
    return [json.loads(ln) for ln in lines if ln != "[DONE]"]
