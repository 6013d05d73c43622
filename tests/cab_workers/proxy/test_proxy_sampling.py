"""The sweep's sampling override over real HTTP: the endpoint gets cab's values, the call records both
what the agent sent and what cab set, and the request hash stays that of the agent's own body."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cab_core.schema import SamplingOverride
from cab_endpoint import ScriptedEndpoint
from cab_workers.proxy import ModelProxy, Upstream

from .conftest import REAL_KEY, RESPONSES_USAGE, serve
from .test_proxy import body, canon_hash, post

pytestmark = pytest.mark.unit

OVERRIDE = SamplingOverride(temperature=0, seed=1234, max_tokens=64)
CHUNK = {"choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": "stop"}]}


class BodyUpstream:
    """An OpenAI-style upstream that keeps every request body; it refuses ``stream_options`` like the
    servers that reject unknown fields, so the proxy's second send is seen too."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

        async def chat(request: Request) -> Response:
            payload = await request.json()
            self.seen.append(payload)
            if "stream_options" in payload:
                return JSONResponse({"error": {"message": "stream_options: extra fields not permitted"}}, 400)
            if payload.get("stream"):
                return Response(
                    f"data: {json.dumps(CHUNK)}\n\ndata: [DONE]\n\n", media_type="text/event-stream"
                )
            usage = {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}
            return JSONResponse(
                {"choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}], "usage": usage}
            )

        async def responses(request: Request) -> Response:
            self.seen.append(await request.json())
            return JSONResponse({"id": "r", "object": "response", "output": [], "usage": RESPONSES_USAGE})

        self.app = Starlette(
            routes=[
                Route("/v1/chat/completions", chat, methods=["POST"]),
                Route("/v1/responses", responses, methods=["POST"]),
            ]
        )


@pytest.fixture
def upstream() -> Iterator[tuple[BodyUpstream, str]]:
    up = BodyUpstream()
    with serve(up.app) as url:
        yield up, url


def test_the_endpoint_gets_cabs_values_and_the_call_records_both(
    proxy: ModelProxy, upstream: tuple[BodyUpstream, str]
) -> None:
    up, url = upstream
    grant = proxy.open_cell(f"cell/forced-{uuid.uuid4().hex[:8]}", Upstream(url, REAL_KEY, sampling=OVERRIDE))
    payload = body(temperature=0.7, top_p=0.95, max_completion_tokens=4096, stop=["\nUser:"])
    raw = json.dumps(payload).encode()
    headers = {"Authorization": f"Bearer {grant.token}", "content-type": "application/json"}
    answer = httpx.post(f"{grant.base_url()}/chat/completions", content=raw, headers=headers, timeout=30)
    (call,) = proxy.close_cell(grant.token)
    assert answer.status_code == 200
    (got,) = up.seen
    assert (got["temperature"], got["seed"], got["max_completion_tokens"]) == (0, 1234, 64)
    assert "max_tokens" not in got  # the agent's dialect: its max_completion_tokens was replaced
    assert (got["top_p"], got["stop"], got["messages"]) == (0.95, ["\nUser:"], payload["messages"])
    assert call.sampling == {
        "temperature": 0.7,
        "top_p": 0.95,
        "max_completion_tokens": 4096,
        "stop": ["\nUser:"],
    }
    assert call.sampling_forced == {"temperature": 0.0, "seed": 1234, "max_completion_tokens": 64}
    assert call.request_hash == canon_hash(payload)  # cab replay matches the agent's body, not cab's
    (exchange,) = grant.record.exchanges
    assert exchange.request_body == raw


def test_a_stream_sent_again_without_stream_options_keeps_the_forced_values(
    proxy: ModelProxy, upstream: tuple[BodyUpstream, str]
) -> None:
    up, url = upstream
    grant = proxy.open_cell(f"cell/forced-{uuid.uuid4().hex[:8]}", Upstream(url, REAL_KEY, sampling=OVERRIDE))
    answer = post(grant, body(stream=True, temperature=1.0))
    calls = proxy.close_cell(grant.token)
    assert answer.status_code == 200
    assert ["stream_options" in p for p in up.seen] == [True, False]
    assert [(p["temperature"], p["seed"], p["max_tokens"]) for p in up.seen] == [(0, 1234, 64)] * 2
    assert [c.http_status for c in calls] == [400, 200]
    for c in calls:  # every try records the same two sides
        assert c.sampling == {"temperature": 1.0}
        assert c.sampling_forced == {"temperature": 0.0, "seed": 1234, "max_tokens": 64}


def test_the_responses_api_gets_max_output_tokens(
    proxy: ModelProxy, upstream: tuple[BodyUpstream, str]
) -> None:
    up, url = upstream
    grant = proxy.open_cell(f"cell/forced-{uuid.uuid4().hex[:8]}", Upstream(url, REAL_KEY, sampling=OVERRIDE))
    payload = {"model": "m", "input": "hi", "reasoning": {"effort": "low"}, "max_output_tokens": 9000}
    headers = {"Authorization": f"Bearer {grant.token}"}
    assert (
        httpx.post(f"{grant.base_url()}/responses", json=payload, headers=headers, timeout=30).status_code
        == 200
    )
    (call,) = proxy.close_cell(grant.token)
    (got,) = up.seen
    assert (got["max_output_tokens"], got["temperature"], got["reasoning"]) == (64, 0, {"effort": "low"})
    assert call.sampling == {"max_output_tokens": 9000, "reasoning.effort": "low"}
    assert call.sampling_forced == {"temperature": 0.0, "seed": 1234, "max_output_tokens": 64}


def test_without_an_override_the_scripted_endpoint_gets_the_agents_body_and_it_is_recorded(
    proxy: ModelProxy, endpoint: ScriptedEndpoint
) -> None:
    grant = proxy.open_cell(f"cell/as-sent-{uuid.uuid4().hex[:8]}", Upstream(endpoint.url, REAL_KEY))
    payload = body("scripted/oracle", temperature=0.2, seed=3, tool_choice="auto")
    assert post(grant, payload).status_code == 200
    (call,) = proxy.close_cell(grant.token)
    assert call.sampling == {"temperature": 0.2, "seed": 3, "tool_choice": "auto"}
    assert call.sampling_forced == {} and call.request_hash == canon_hash(payload)


def test_the_scripted_endpoint_answers_a_forced_call(proxy: ModelProxy, endpoint: ScriptedEndpoint) -> None:
    grant = proxy.open_cell(
        f"cell/forced-{uuid.uuid4().hex[:8]}", Upstream(endpoint.url, REAL_KEY, sampling=OVERRIDE)
    )
    answer = post(grant, body("scripted/oracle"))
    (call,) = proxy.close_cell(grant.token)
    assert answer.status_code == 200 and call.prompt_tokens and grant.record.infra_failure is None
    assert call.sampling == {} and call.sampling_forced == {
        "temperature": 0.0,
        "seed": 1234,
        "max_tokens": 64,
    }
