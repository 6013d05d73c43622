"""The ``llama-server`` server profile: the scripted endpoint answers in the shapes a real llama-server
was captured sending (tests/cab_workers/proxy/fixtures/llama_server/), chosen per request."""

from __future__ import annotations

import json
import typing
from pathlib import Path
from typing import Any

import httpx
import pytest

from cab_core.errors import CabError, ConfigError
from cab_core.schema import ScriptedEndpointSpec
from cab_endpoint import ScriptedEndpoint, create_app
from cab_endpoint.llama_server import N_CTX
from cab_endpoint.profiles import PROFILE_HEADER, PROFILES
from cab_scheduler.sweep import load_sweep

from .conftest import FIXTURE_TASKS
from .test_app import assemble, request, responses_request, sse_events

pytestmark = pytest.mark.unit

CAPTURED = Path(__file__).parents[1] / "cab_workers" / "proxy" / "fixtures" / "llama_server"
LLAMA = {PROFILE_HEADER: "llama-server"}


def real(name: str) -> Any:
    data = (CAPTURED / name).read_bytes()
    if name.endswith(".json"):
        return json.loads(data)
    return [
        json.loads(ln[6:])
        for ln in data.decode().split("\n")
        if ln.startswith("data: ") and ln != "data: [DONE]"
    ]


def post(ep: ScriptedEndpoint, body: Any, path: str = "chat/completions", **headers: str) -> httpx.Response:
    return httpx.post(f"{ep.url}/{path}", json=body, headers={**LLAMA, **headers}, timeout=10)


def stream_objects(resp: httpx.Response) -> list[dict[str, Any]]:
    assert resp.status_code == 200, resp.text
    lines = [ln for ln in resp.text.split("\n") if ln.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    return [json.loads(ln[6:]) for ln in lines[:-1]]


def test_profile_names_are_the_schemas() -> None:
    names = typing.get_args(ScriptedEndpointSpec.model_fields["profile"].annotation)
    assert set(names) == set(PROFILES) and ScriptedEndpointSpec().profile == "openai"
    spec = ScriptedEndpointSpec.model_validate({"kind": "scripted", "profile": "llama-server"})
    assert spec.profile == "llama-server"


def test_an_unknown_profile_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown server profile 'vllm'; use one of: openai, llama-server"):
        create_app(FIXTURE_TASKS, profile_name="vllm")


def test_a_non_streamed_answer_has_the_real_servers_keys(endpoint: ScriptedEndpoint) -> None:
    got = post(endpoint, request("scripted/oracle")).json()
    want = real("tools.json")
    assert list(got) == list(want)
    assert list(got["choices"][0]) == list(want["choices"][0])
    assert list(got["usage"]) == list(want["usage"]) and list(got["timings"]) == list(want["timings"])
    (call,) = got["choices"][0]["message"]["tool_calls"]
    assert list(call) == list(want["choices"][0]["message"]["tool_calls"][0])
    assert len(call["id"]) == 32 and call["id"].isalnum()
    assert (
        got["system_fingerprint"] == want["system_fingerprint"]
        and got["choices"][0]["message"]["content"] == ""
    )
    usage, timings = got["usage"], got["timings"]
    assert timings["cache_n"] + timings["prompt_n"] == usage["prompt_tokens"]
    assert timings["predicted_n"] == usage["completion_tokens"]
    assert usage["prompt_tokens_details"]["cached_tokens"] == timings["cache_n"] > 0  # the system message


@pytest.mark.parametrize("include_usage", [False, True])
def test_a_stream_splits_the_tool_call_like_the_real_server(
    endpoint: ScriptedEndpoint, include_usage: bool
) -> None:
    body = request("scripted/oracle", stream=True)
    if include_usage:
        body["stream_options"] = {"include_usage": True}
    chunks = stream_objects(post(endpoint, body))
    whole = post(endpoint, request("scripted/oracle")).json()
    content, calls, finish = assemble(chunks)
    assert (calls, finish) == (whole["choices"][0]["message"]["tool_calls"], "tool_calls") and content is None
    want = real("tools_stream_usage.sse")
    assert chunks[0]["choices"] == want[0]["choices"] and list(chunks[0]) == list(want[0])
    pieces = [
        c["choices"][0]["delta"]["tool_calls"][0]
        for c in chunks
        if c["choices"] and c["choices"][0]["delta"].get("tool_calls")
    ]
    wanted = [
        c["choices"][0]["delta"]["tool_calls"][0]
        for c in want
        if c["choices"] and c["choices"][0]["delta"].get("tool_calls")
    ]
    assert list(pieces[0]) == list(wanted[0]) and list(pieces[0]["function"]) == ["name", "arguments"]
    assert all(list(p) == list(wanted[1]) for p in pieces[1:]) and len(pieces) > 10
    assert not any("usage" in c for c in chunks[:-1])
    last = chunks[-1]
    if include_usage:
        assert last["choices"] == [] and list(last) == list(want[-1])
        assert "timings" not in chunks[-2] and chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"
        assert last["usage"] == whole["usage"]
    else:
        assert last["choices"][0]["finish_reason"] == "tool_calls" and "usage" not in last
        assert list(last) == list(real("chat_stream.sse")[-1]) and last["timings"] == whole["timings"]


def test_text_streams_one_token_per_chunk(endpoint: ScriptedEndpoint) -> None:
    chunks = stream_objects(post(endpoint, request("scripted/noop", tools=(), stream=True)))
    texts = [c["choices"][0]["delta"]["content"] for c in chunks[1:-1]]
    assert len(texts) > 5 and all(len(t.split()) <= 1 for t in texts)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": None}


def test_errors_have_the_real_servers_shape(endpoint: ScriptedEndpoint) -> None:
    huge = request("scripted/oracle", max_tokens=8)
    huge["messages"].append({"role": "user", "content": "hello " * (N_CTX * 4 // 6 + 10)})
    context = post(endpoint, huge)
    want = real("error_context.json")
    assert context.status_code == 400 and list(context.json()["error"]) == list(want["error"])
    assert context.json()["error"]["type"] == "exceed_context_size_error"
    assert context.json()["error"]["n_ctx"] == N_CTX < context.json()["error"]["n_prompt_tokens"]
    minus = post(endpoint, request("scripted/oracle", max_tokens=-5, stream=True))
    assert (minus.status_code, minus.json()) == (400, real("error_max_tokens.json"))
    options = post(endpoint, request("scripted/oracle", stream=True, stream_options={"include_usage": "yes"}))
    assert (options.status_code, options.json()) == (400, real("error_include_usage_type.json"))
    missing = post(endpoint, {"model": "scripted/oracle"})
    assert missing.status_code == 400 and list(missing.json()["error"]) == ["code", "message", "type"]
    unknown = post(endpoint, request("scripted/nope"))
    assert unknown.status_code == 404 and unknown.json()["error"]["type"] == "not_found_error"
    assert unknown.json()["error"]["code"] == 404


def test_the_header_picks_the_profile_per_request(endpoint: ScriptedEndpoint) -> None:
    plain = httpx.post(f"{endpoint.url}/chat/completions", json=request("scripted/noop"), timeout=10).json()
    assert "timings" not in plain and "system_fingerprint" not in plain  # the endpoint's default: openai
    llama = post(endpoint, request("scripted/noop")).json()
    assert "timings" in llama and llama["choices"][0]["message"] == plain["choices"][0]["message"]
    bad = post(endpoint, request("scripted/noop"), **{PROFILE_HEADER: "vllm"})
    assert bad.status_code == 400 and "one of: openai, llama-server" in bad.json()["error"]["message"]


def test_the_endpoints_default_profile(fixture_tasks: Path) -> None:
    with ScriptedEndpoint(fixture_tasks, profile="llama-server") as ep:
        got = httpx.post(f"{ep.url}/chat/completions", json=request("scripted/noop"), timeout=10).json()
        assert got["system_fingerprint"] == "b11669-Debian"
        openai = post(ep, request("scripted/noop"), **{PROFILE_HEADER: "openai"}).json()
        assert "timings" not in openai


def test_nousage_drops_timings_too(endpoint: ScriptedEndpoint) -> None:
    chunks = stream_objects(
        post(endpoint, request("scripted/nousage", stream=True, stream_options={"include_usage": True}))
    )
    assert not any("usage" in c or "timings" in c for c in chunks)
    assert not {"usage", "timings"} & set(post(endpoint, request("scripted/nousage")).json())


def test_a_responses_stream_has_the_real_servers_events(endpoint: ScriptedEndpoint) -> None:
    resp = post(endpoint, responses_request("scripted/oracle", stream=True), "responses")
    got = sse_events(resp.text)
    want = real("responses_tools_stream.sse")
    kinds = [e["type"] for e in got]
    assert kinds[:3] == [e["type"] for e in want[:3]] and kinds[-2:] == [e["type"] for e in want[-2:]]
    assert set(kinds[3:-2]) == {"response.function_call_arguments.delta"} and len(kinds) > 10
    for event in got:  # every event has the keys its kind has on the real server
        (keys,) = {json.dumps(sorted(w)) for w in want if w["type"] == event["type"]}
        assert sorted(event) == json.loads(keys), event["type"]
    final, timings = got[-1]["response"], got[-1]["timings"]
    assert final["usage"]["input_tokens"] == timings["prompt_n"] + timings["cache_n"]
    assert final["output"][0]["call_id"] == "call_" + final["output"][0]["id"].removeprefix("fc_")
    plain = sse_events(
        post(endpoint, {"model": "scripted/noop", "input": "hi", "stream": True}, "responses").text
    )
    real_text = real("responses_stream.sse")
    assert [e["type"] for e in plain if "delta" not in e["type"]] == [
        e["type"] for e in real_text if "delta" not in e["type"]
    ]


def test_a_sweep_names_the_profile(tmp_path: Path) -> None:
    sweep = tmp_path / "llama.yaml"
    head = "sweep_id: llama\ntuis: [reference]\nmodels: [scripted/oracle]\ntasks: [polyglot/x]\n"
    sweep.write_text(head + "endpoint: {kind: scripted, profile: llama-server}\n")
    assert load_sweep(sweep).policy.endpoint == ScriptedEndpointSpec(profile="llama-server")
    sweep.write_text(head + "endpoint: {kind: scripted, profile: vllm}\n")
    with pytest.raises(CabError, match="profile"):
        load_sweep(sweep)
