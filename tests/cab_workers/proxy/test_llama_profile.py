"""The recording proxy in front of the scripted endpoint speaking as llama-server (its server profile):
exact usage and TTFT recorded, split tool calls relayed whole, llama's errors classified."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from cab_endpoint import ScriptedEndpoint
from cab_endpoint.llama_server import N_CTX
from cab_endpoint.profiles import PROFILE_HEADER
from cab_workers.proxy import CellGrant, ModelProxy, Upstream

from .conftest import REAL_KEY, objects, post
from .test_llama_server_bytes import assemble

pytestmark = pytest.mark.unit

GREET = (
    'Fix greet() in greet.py so that greet("Ada") returns "Hello, Ada!".\n'
    "Move the helper out of old_helper.py into pkg/extra.py and delete old_helper.py.\n"
)
"""The prompt of the endpoint fixtures' demo/greet task: the oracle answers it with a bash call."""
BASH = {
    "type": "function",
    "function": {
        "name": "bash",
        "parameters": {
            "type": "object",
            "properties": {"command": {"type": "string"}},
            "required": ["command"],
        },
    },
}


def chat(model: str = "scripted/oracle", **extra: Any) -> dict[str, Any]:
    """A request the oracle answers with a bash call; unique, so fault counts never collide."""
    return {
        "model": model,
        "messages": [
            {"role": "system", "content": f"You are a coding agent. {uuid.uuid4().hex}"},
            {"role": "user", "content": f"<task>\n{GREET}\n</task>"},
        ],
        "tools": [BASH],
        **extra,
    }


@pytest.fixture
def grant(proxy: ModelProxy, endpoint: ScriptedEndpoint) -> Iterator[CellGrant]:
    """A cell whose upstream is the scripted endpoint in the llama-server profile, set the way the host
    sets it (a header of the upstream, not the agent's)."""
    upstream = Upstream(endpoint.url, REAL_KEY, headers=((PROFILE_HEADER, "llama-server"),))
    g = proxy.open_cell(f"sweep/tui/model/llama/{uuid.uuid4().hex[:8]}", upstream)
    yield g
    proxy.close_cell(g.token)


def test_a_stream_is_recorded_with_the_servers_usage_and_its_ttft(
    proxy: ModelProxy, grant: CellGrant
) -> None:
    payload = chat()
    whole = post(grant, payload).json()
    streamed = post(grant, {**payload, "stream": True})  # the proxy asks for usage on the agent's behalf
    chunks = objects(streamed)
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"] == whole["usage"]  # usage only at the end
    assert assemble(chunks) == [
        {"id": c["id"], "name": c["function"]["name"], "arguments": c["function"]["arguments"]}
        for c in whole["choices"][0]["message"]["tool_calls"]
    ]  # the agent gets whole calls back from one-token pieces
    plain, stream = proxy.close_cell(grant.token)
    for call in (plain, stream):
        assert (call.prompt_tokens, call.completion_tokens, call.cached_tokens) == (
            whole["usage"]["prompt_tokens"],
            whole["usage"]["completion_tokens"],
            whole["usage"]["prompt_tokens_details"]["cached_tokens"],
        )
        assert call.source.value == "proxy" and not call.estimated and call.finish_reason == "tool_calls"
        assert call.http_status == 200 and call.error is None
    assert plain.ttft_ms is None and stream.ttft_ms is not None and 0 < stream.ttft_ms <= stream.latency_ms


def test_a_responses_stream_is_recorded_with_the_servers_usage(proxy: ModelProxy, grant: CellGrant) -> None:
    payload = {"model": "scripted/noop", "input": [{"role": "user", "content": GREET}], "stream": True}
    events = objects(post(grant, payload, "responses"))
    usage = events[-1]["response"]["usage"]
    (call,) = proxy.close_cell(grant.token)
    assert (call.prompt_tokens, call.completion_tokens) == (usage["input_tokens"], usage["output_tokens"])
    assert not call.estimated and call.finish_reason == "completed" and call.ttft_ms is not None


def test_a_400_to_a_stream_does_not_mark_the_endpoint_as_refusing_stream_options(
    proxy: ModelProxy, grant: CellGrant
) -> None:
    """Regression: llama-server refuses ``max_tokens: -5`` with 400 whatever the stream options; the
    proxy took that for a refusal of its ``stream_options`` and never asked for usage again, so every
    later stream of the endpoint was estimated."""
    bad = post(grant, chat(stream=True, max_tokens=-5))
    good = post(grant, chat(stream=True))
    assert bad.status_code == 400 and bad.json()["error"]["code"] == 400
    assert objects(good)[-1]["choices"] == []  # usage was asked for, and came
    refused, resent, answered = proxy.close_cell(grant.token)
    assert [c.http_status for c in (refused, resent, answered)] == [400, 400, 200]
    assert refused.error and refused.error.endswith("sent again without the proxy's stream_options")
    assert resent.error and resent.error.startswith(
        "bad_request (400 invalid_request_error): Field 'max_tokens'"
    )
    assert not answered.estimated and answered.prompt_tokens and answered.error is None
    assert grant.record.infra_failure is None


def test_llama_servers_errors_are_recorded_and_classified(proxy: ModelProxy, grant: CellGrant) -> None:
    huge = chat()
    huge["messages"].append({"role": "user", "content": "hello " * (N_CTX * 4 // 6 + 10)})
    context = post(grant, huge)
    missing = post(grant, chat("scripted/no-such-behaviour"))
    failing = post(grant, chat("scripted/fault-500"))  # one 500, retried, then answered
    assert context.status_code == 400 and context.json()["error"]["type"] == "exceed_context_size_error"
    assert missing.status_code == 404 and failing.status_code == 200
    calls = proxy.close_cell(grant.token)
    errors = [(c.http_status, (c.error or "").split(":")[0]) for c in calls]
    assert errors == [
        (400, "context_exceeded (400 exceed_context_size_error)"),
        (404, "not_found (404 not_found_error)"),
        (500, "upstream answered 500"),
        (200, ""),
    ]
    assert calls[2].error and "server_error (500 server_error)" in calls[2].error
    assert all(c.prompt_tokens is None for c in calls[:3]) and not calls[3].estimated
    assert grant.record.infra_failure is None  # the agent's own errors; the 500 was retried away
