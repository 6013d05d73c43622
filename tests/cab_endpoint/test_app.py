"""The scripted endpoint over real HTTP: every behaviour, both wire modes, usage, auth and errors."""

from __future__ import annotations

import json
import math
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from cab_endpoint import BEHAVIOURS, ScriptedEndpoint
from cab_endpoint.behaviours import NOOP_TEXT, ORACLE_DONE_TEXT, UNMATCHED_TEXT
from cab_endpoint.scripts import REFUSAL_TEXT, SCRATCH_PATH

pytestmark = pytest.mark.unit

GREET_PROMPT = (
    'Fix greet() in greet.py so that greet("Ada") returns "Hello, Ada!".\n'
    "Move the helper out of old_helper.py into pkg/extra.py and delete old_helper.py.\n"
)
BASH_TOOL = {
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


def request(
    model: str, prompt: str = GREET_PROMPT, tools: Any = (BASH_TOOL,), **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "messages": [
            {"role": "system", "content": "You are a coding agent."},
            {"role": "user", "content": f"<task>\n{prompt}\n</task>"},
        ],
        **extra,
    }
    if tools:
        body["tools"] = list(tools)
    return body


def post(ep: ScriptedEndpoint, body: dict[str, Any], timeout: float = 10, **kw: Any) -> httpx.Response:
    return httpx.post(f"{ep.url}/chat/completions", json=body, timeout=timeout, **kw)


def expected_tokens(obj: Any) -> int:
    return max(1, math.ceil(len(json.dumps(obj, sort_keys=True, separators=(",", ":"))) / 4))


def read_stream(resp: httpx.Response) -> tuple[list[dict[str, Any]], list[str]]:
    lines = [line for line in resp.text.split("\n") if line]
    assert all(line.startswith("data: ") for line in lines), lines
    assert lines[-1] == "data: [DONE]"
    return [json.loads(line[6:]) for line in lines[:-1]], lines


def assemble(chunks: list[dict[str, Any]]) -> tuple[str | None, list[dict[str, Any]], str | None]:
    """Rebuild (content, tool_calls, finish_reason) from stream deltas as a client would."""
    content, calls, finish = None, {}, None
    for c in chunks:
        for choice in c["choices"]:
            delta = choice["delta"]
            if delta.get("content") is not None:
                content = (content or "") + delta["content"]
            for tc in delta.get("tool_calls") or []:
                slot = calls.setdefault(tc["index"], {"id": None, "type": "function", "function": {}})
                slot["id"] = tc.get("id") or slot["id"]
                fn = slot["function"]
                fn["name"] = tc.get("function", {}).get("name") or fn.get("name")
                fn["arguments"] = fn.get("arguments", "") + tc.get("function", {}).get("arguments", "")
            finish = choice["finish_reason"] or finish
    return content, [calls[i] for i in sorted(calls)], finish


def test_models_lists_every_behaviour(endpoint: ScriptedEndpoint) -> None:
    resp = httpx.get(f"{endpoint.url}/models", timeout=10)
    assert resp.status_code == 200
    assert [m["id"] for m in resp.json()["data"]] == [f"scripted/{b}" for b in BEHAVIOURS]


def test_noop_non_streamed_has_exact_usage(endpoint: ScriptedEndpoint) -> None:
    body = request("scripted/noop")
    data = post(endpoint, body).json()
    choice = data["choices"][0]
    assert data["object"] == "chat.completion" and data["model"] == "scripted/noop"
    assert choice["message"] == {"role": "assistant", "content": NOOP_TEXT}
    assert choice["finish_reason"] == "stop"
    prompt = expected_tokens(body["messages"])
    completion = expected_tokens({"role": "assistant", "content": NOOP_TEXT})
    assert data["usage"] == {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    assert post(endpoint, body).json()["usage"] == data["usage"]  # deterministic


def test_oracle_tool_call_applies_the_solution(endpoint, greet_workdir, greet_solved, tree_of, bash) -> None:
    data = post(endpoint, request("any/prefix/oracle")).json()
    choice = data["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    (call,) = choice["message"]["tool_calls"]
    assert (
        call["type"] == "function" and call["function"]["name"] == "bash" and call["id"].startswith("call_")
    )
    command = json.loads(call["function"]["arguments"])["command"]
    done = bash(command, greet_workdir)
    assert done.returncode == 0, done.stderr
    assert tree_of(greet_workdir) == greet_solved
    assert data["usage"]["prompt_tokens"] > 0 and data["usage"]["completion_tokens"] > 0


def test_oracle_wraps_up_after_the_tool_result(endpoint: ScriptedEndpoint) -> None:
    first = post(endpoint, request("scripted/oracle")).json()["choices"][0]["message"]
    body = request("scripted/oracle")
    body["messages"] += [
        first,
        {"role": "tool", "tool_call_id": first["tool_calls"][0]["id"], "content": "exit 0"},
    ]
    choice = post(endpoint, body).json()["choices"][0]
    assert choice["message"] == {"role": "assistant", "content": ORACLE_DONE_TEXT}
    assert choice["finish_reason"] == "stop"


def test_oracle_matches_content_parts_and_reflowed_whitespace(endpoint: ScriptedEndpoint) -> None:
    body = request("scripted/oracle")
    text = "  ".join(GREET_PROMPT.split())  # whitespace reflowed
    body["messages"][1]["content"] = [{"type": "text", "text": "env: linux"}, {"type": "text", "text": text}]
    assert post(endpoint, body).json()["choices"][0]["finish_reason"] == "tool_calls"


def test_oracle_without_a_matching_task_says_so(endpoint: ScriptedEndpoint) -> None:
    choice = post(endpoint, request("scripted/oracle", prompt="Write a compiler.")).json()["choices"][0]
    assert choice["message"]["content"] == UNMATCHED_TEXT and choice["finish_reason"] == "stop"


def test_oracle_without_a_shell_tool_answers_with_a_fenced_block(
    endpoint, greet_workdir, greet_solved, tree_of, bash
):
    message = post(endpoint, request("scripted/oracle", tools=())).json()["choices"][0]["message"]
    assert "tool_calls" not in message
    command = message["content"].split("```bash\n", 1)[1].split("\n```", 1)[0]
    assert bash(command, greet_workdir).returncode == 0
    assert tree_of(greet_workdir) == greet_solved


def test_oracle_uses_an_argv_shell_tool(endpoint: ScriptedEndpoint) -> None:
    shell = {
        "type": "function",
        "function": {"name": "shell", "parameters": {"properties": {"command": {"type": "array"}}}},
    }
    other = {
        "type": "function",
        "function": {"name": "read_file", "parameters": {"properties": {"path": {}}}},
    }
    body = request("scripted/oracle", tools=(other, shell))
    (call,) = post(endpoint, body).json()["choices"][0]["message"]["tool_calls"]
    assert call["function"]["name"] == "shell"
    assert json.loads(call["function"]["arguments"])["command"][:2] == ["bash", "-lc"]


@pytest.mark.parametrize("include_usage", [True, False])
def test_oracle_streamed_matches_non_streamed(endpoint: ScriptedEndpoint, include_usage: bool) -> None:
    plain = post(endpoint, request("scripted/oracle")).json()
    body = request("scripted/oracle", stream=True, stream_options={"include_usage": include_usage})
    resp = post(endpoint, body)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/event-stream")
    chunks, _ = read_stream(resp)
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    content, calls, finish = assemble(chunks)
    assert content is None and finish == "tool_calls"
    assert calls == plain["choices"][0]["message"]["tool_calls"]
    assert sum(1 for c in chunks for ch in c["choices"] for _ in ch["delta"].get("tool_calls") or []) > 2
    if include_usage:
        assert chunks[-1]["choices"] == [] and chunks[-1]["usage"] == plain["usage"]
    else:
        assert all("usage" not in c for c in chunks)


def test_noop_streamed_content(endpoint: ScriptedEndpoint) -> None:
    chunks, _ = read_stream(post(endpoint, request("scripted/noop", stream=True)))
    content, calls, finish = assemble(chunks)
    assert (content, calls, finish) == (NOOP_TEXT, [], "stop")
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert len(chunks) > 3  # the text really arrives in pieces


def test_sloppy_touches_files_outside_the_solution(
    endpoint, greet_workdir, greet_solved, tree_of, bash
) -> None:
    (call,) = post(endpoint, request("scripted/sloppy")).json()["choices"][0]["message"]["tool_calls"]
    assert bash(json.loads(call["function"]["arguments"])["command"], greet_workdir).returncode == 0
    got = tree_of(greet_workdir)
    extra = {k for k in got if got[k] != greet_solved.get(k)}
    assert extra == {SCRATCH_PATH, "README.md"}
    assert got["README.md"][0].startswith(greet_solved["README.md"][0])
    assert {k: v for k, v in got.items() if k not in extra} == {
        k: v for k, v in greet_solved.items() if k not in extra
    }


def test_refuser_writes_refusal_then_states_it(endpoint, greet_workdir, bash) -> None:
    body = request("scripted/refuser", prompt="anything at all")
    message = post(endpoint, body).json()["choices"][0]["message"]
    assert (
        bash(
            json.loads(message["tool_calls"][0]["function"]["arguments"])["command"], greet_workdir
        ).returncode
        == 0
    )
    refusal = (greet_workdir / "REFUSAL.md").read_text()
    assert refusal == REFUSAL_TEXT and len(refusal) >= 80 and "I cannot complete this task because" in refusal
    body["messages"] += [message, {"role": "tool", "tool_call_id": "x", "content": "exit code: 0"}]
    final = post(endpoint, body).json()["choices"][0]
    assert final["finish_reason"] == "stop" and final["message"]["content"].startswith(
        "I cannot complete this task"
    )


def test_unknown_model_is_404_model_not_found(endpoint: ScriptedEndpoint) -> None:
    resp = post(endpoint, request("scripted/gpt-nope"))
    assert resp.status_code == 404
    assert (
        resp.json()["error"]["code"] == "model_not_found"
        and "model not found" in resp.json()["error"]["message"]
    )


def test_badproto_is_404_with_an_openai_error(endpoint: ScriptedEndpoint) -> None:
    for stream in (False, True):
        resp = post(endpoint, request("scripted/badproto", stream=stream))
        assert resp.status_code == 404
        assert set(resp.json()["error"]) == {"message", "type", "param", "code"}


def test_malformed_requests_are_400(endpoint: ScriptedEndpoint) -> None:
    resp = httpx.post(f"{endpoint.url}/chat/completions", content=b"{nope", timeout=10)
    assert resp.status_code == 400 and "error" in resp.json()
    assert post(endpoint, {"model": "scripted/noop"}).status_code == 400


def test_hang_does_not_block_other_requests(endpoint: ScriptedEndpoint) -> None:
    with ThreadPoolExecutor(2) as pool:
        hanging = pool.submit(post, endpoint, request("scripted/hang"), timeout=2.0)
        answered = pool.submit(post, endpoint, request("scripted/noop"))
        assert answered.result(timeout=5).status_code == 200
        assert not hanging.done()
        with pytest.raises(httpx.ReadTimeout):
            hanging.result(timeout=10)


def test_stopping_releases_a_hanging_request(fixture_tasks: Path) -> None:
    ep = ScriptedEndpoint(fixture_tasks).start()
    with capture_logs() as logs, ThreadPoolExecutor(1) as pool:
        hanging = pool.submit(post, ep, request("scripted/hang"), timeout=30)
        deadline = time.monotonic() + 10
        while not any(e["event"] == "endpoint_hang_started" for e in logs):
            assert time.monotonic() < deadline, "the hanging request never arrived"
            time.sleep(0.01)
        ep.stop()
        assert hanging.result(timeout=10).status_code == 503
    assert not any(t.name == f"scripted-endpoint-{ep.port}" for t in threading.enumerate())
    assert any(e["event"] == "endpoint_hang_released" and e["closing"] for e in logs)


def test_api_key_is_required_when_set(fixture_tasks: Path) -> None:
    with ScriptedEndpoint(fixture_tasks, api_key="s3cret") as ep:
        assert post(ep, request("scripted/noop")).status_code == 401
        wrong = post(ep, request("scripted/noop"), headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_api_key"
        assert httpx.get(f"{ep.url}/models", timeout=10).status_code == 401
        assert (
            post(ep, request("scripted/noop"), headers={"Authorization": "Bearer s3cret"}).status_code == 200
        )
        assert httpx.get(f"http://127.0.0.1:{ep.port}/health", timeout=10).status_code == 200


def test_catalog_picks_up_tasks_written_after_start(tmp_path: Path, fixture_tasks: Path) -> None:
    with ScriptedEndpoint(tmp_path) as ep:
        assert (
            post(ep, request("scripted/oracle")).json()["choices"][0]["message"]["content"] == UNMATCHED_TEXT
        )
        shutil.copytree(fixture_tasks / "demo", tmp_path / "demo")
        assert post(ep, request("scripted/oracle")).json()["choices"][0]["finish_reason"] == "tool_calls"


def test_slow_thinks_first_then_acts_like_oracle(endpoint: ScriptedEndpoint) -> None:
    """`scripted/slow` answers only after SLOW_S, with the oracle's tool call."""
    from cab_endpoint.behaviours import SLOW_S

    t0 = time.monotonic()
    resp = post(endpoint, request("scripted/slow"), timeout=SLOW_S + 10)
    assert time.monotonic() - t0 >= SLOW_S - 0.5
    assert resp.status_code == 200
    assert resp.json()["choices"][0]["message"]["tool_calls"]


EXEC_TOOL = {  # codex's shell tool, as the Responses API lists tools (flat)
    "type": "function",
    "name": "exec_command",
    "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}, "required": ["cmd"]},
}


def responses_request(model: str, *items: dict[str, Any], stream: bool = False) -> dict[str, Any]:
    return {
        "model": model,
        "stream": stream,
        "input": [
            {
                "type": "message",
                "role": "developer",
                "content": [{"type": "input_text", "text": "Be a coder."}],
            },
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": GREET_PROMPT}]},
            *items,
        ],
        "tools": [EXEC_TOOL, {"type": "web_search"}],
    }


def sse_events(text: str) -> list[dict[str, Any]]:
    return [json.loads(line[6:]) for line in text.split("\n") if line.startswith("data: ")]


def test_responses_api_oracle_calls_exec_command_then_answers(
    endpoint: ScriptedEndpoint, greet_workdir, greet_solved, tree_of, bash
) -> None:  # noqa: ANN001
    url = f"{endpoint.url}/responses"
    first = httpx.post(url, json=responses_request("scripted/oracle"), timeout=10).json()
    assert first["status"] == "completed" and first["usage"]["total_tokens"] > 0
    (call,) = first["output"]
    assert call["type"] == "function_call" and call["name"] == "exec_command"
    assert bash(json.loads(call["arguments"])["cmd"], greet_workdir).returncode == 0
    assert tree_of(greet_workdir) == greet_solved
    result = {"type": "function_call_output", "call_id": call["call_id"], "output": "exit 0"}
    streamed = httpx.post(
        url, json=responses_request("scripted/oracle", call, result, stream=True), timeout=10
    )
    events = sse_events(streamed.text)
    assert [e["type"] for e in events][0] == "response.created" and events[-1]["type"] == "response.completed"
    (message,) = events[-1]["response"]["output"]
    assert message["type"] == "message" and message["content"][0]["text"] == ORACLE_DONE_TEXT
    assert {"input_tokens", "output_tokens", "total_tokens"} <= set(events[-1]["response"]["usage"])
    done = [e["item"] for e in events if e["type"] == "response.output_item.done"]
    assert done == [message]


def test_responses_api_badproto_is_404(endpoint: ScriptedEndpoint) -> None:
    resp = httpx.post(f"{endpoint.url}/responses", json=responses_request("scripted/badproto"), timeout=10)
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "unknown_url"
