"""The reference agent as a real process on the host, against a real scripted endpoint."""

from __future__ import annotations

import ast
import socket
import sys
from pathlib import Path

import pytest

from cab_endpoint import ScriptedEndpoint
from cab_endpoint.behaviours import NOOP_TEXT, ORACLE_DONE_TEXT, REFUSER_DONE_TEXT
from cab_endpoint.scripts import REFUSAL_TEXT
from cab_workers.adapters.reference import ReferenceAdapter

pytestmark = pytest.mark.unit

AGENT = Path(__file__).resolve().parents[3] / "images" / "reference" / "agent.py"


def test_agent_imports_only_the_standard_library() -> None:
    tree = ast.parse(AGENT.read_text())
    names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert names and names <= set(sys.stdlib_module_names)


def test_oracle_reproduces_the_solution(endpoint: ScriptedEndpoint, run_agent, greet_solved, tree_of) -> None:
    run = run_agent(endpoint.url, "scripted/oracle")
    assert run.exit_code == 0, run.stderr
    assert tree_of(run.work) == greet_solved
    calls = run.of("model_call")
    assert [c["seq"] for c in calls] == [0, 1]
    assert all(
        c["prompt_tokens"] > 0 and c["completion_tokens"] > 0 and c["http_status"] == 200 for c in calls
    )
    assert [c["finish_reason"] for c in calls] == ["tool_calls", "stop"]
    assert all(len(c["request_sha256"]) == 64 and c["latency_ms"] >= 0 for c in calls)
    assert calls[0]["request_sha256"] != calls[1]["request_sha256"]
    assert calls[1]["prompt_tokens"] > calls[0]["prompt_tokens"]  # the tool result went back
    assert [t["exit_code"] for t in run.of("tool")] == [0]
    assert run.of("assistant") == [{"event": "assistant", "content": ORACLE_DONE_TEXT}]
    assert run.events[-1] == {"event": "done", "turns": 2, "reason": "answered"}

    report = ReferenceAdapter().report(run.stdout, run.stderr, run.exit_code, run.work)
    assert [(c.seq, c.prompt_tokens, c.completion_tokens, c.http_status) for c in report.model_calls] == [
        (c["seq"], c["prompt_tokens"], c["completion_tokens"], 200) for c in calls
    ]
    assert report.model_calls[0].request_hash == calls[0]["request_sha256"]
    assert report.model_calls[0].timestamp.tzinfo is not None
    assert report.transcript == ORACLE_DONE_TEXT  # no tool output, no JSON keys
    assert not report.handshake_failed and report.detail == ""


def test_noop_changes_nothing(endpoint: ScriptedEndpoint, run_agent, greet_pristine, tree_of) -> None:
    run = run_agent(endpoint.url, "scripted/noop")
    assert run.exit_code == 0 and tree_of(run.work) == greet_pristine
    assert run.of("tool") == [] and run.of("assistant")[0]["content"] == NOOP_TEXT
    assert run.events[-1]["turns"] == 1


def test_refuser_writes_refusal(endpoint: ScriptedEndpoint, run_agent) -> None:
    run = run_agent(endpoint.url, "scripted/refuser")
    assert run.exit_code == 0
    assert (run.work / "REFUSAL.md").read_text() == REFUSAL_TEXT
    report = ReferenceAdapter().report(run.stdout, run.stderr, run.exit_code, run.work)
    assert report.transcript == REFUSER_DONE_TEXT


def test_sloppy_leaves_collateral(endpoint: ScriptedEndpoint, run_agent, greet_solved, tree_of) -> None:
    run = run_agent(endpoint.url, "scripted/sloppy")
    got = tree_of(run.work)
    assert run.exit_code == 0 and "notes/scratch.txt" in got and got["README.md"] != greet_solved["README.md"]


@pytest.mark.parametrize("model", ["scripted/badproto", "scripted/no-such-model"])
def test_handshake_failure_exits_3(endpoint: ScriptedEndpoint, run_agent, model: str) -> None:
    run = run_agent(endpoint.url, model)
    assert run.exit_code == 3
    assert [c["http_status"] for c in run.of("model_call")] == [404]  # a 4xx is never retried
    (error,) = run.of("error")
    assert error["kind"] == "handshake" and error["detail"].startswith("HTTP 404")
    report = ReferenceAdapter().report(run.stdout, run.stderr, run.exit_code, run.work)
    assert (
        report.handshake_failed
        and report.detail.startswith("handshake: HTTP 404")
        and "\n" not in report.detail
    )
    assert report.model_calls[0].http_status == 404 and report.model_calls[0].prompt_tokens is None


def test_wrong_api_key_is_a_handshake_failure(run_agent) -> None:
    with ScriptedEndpoint(Path(__file__).parent, api_key="right") as ep:
        run = run_agent(ep.url, "scripted/noop", CAB_API_KEY="wrong")
        assert run.exit_code == 3 and "401" in run.of("error")[0]["detail"]
        assert run_agent(ep.url, "scripted/noop", CAB_API_KEY="right").exit_code == 0


def test_max_turns_stops_the_loop(endpoint: ScriptedEndpoint, run_agent, greet_solved, tree_of) -> None:
    run = run_agent(endpoint.url, "scripted/oracle", CAB_MAX_TURNS="1")
    assert run.exit_code == 0 and tree_of(run.work) == greet_solved
    assert run.events[-1] == {"event": "done", "turns": 1, "reason": "max_turns"}


@pytest.mark.parametrize(
    "env",
    [{"CAB_MODEL": ""}, {"CAB_MAX_TURNS": "many"}, {"CAB_PROMPT_FILE": "/nonexistent/prompt.txt"}],
)
def test_bad_configuration_exits_2(endpoint: ScriptedEndpoint, run_agent, env: dict[str, str]) -> None:
    run = run_agent(endpoint.url, "scripted/noop", **env)
    assert run.exit_code == 2 and run.of("error")[0]["kind"] == "config" and run.of("model_call") == []
    assert (
        ReferenceAdapter()
        .report(run.stdout, run.stderr, run.exit_code, run.work)
        .detail.startswith("config:")
    )


def test_unreachable_endpoint_exits_4_after_retries(run_agent) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    run = run_agent(url, "scripted/noop")
    assert run.exit_code == 4
    assert [c["http_status"] for c in run.of("model_call")] == [None] * 4
    assert run.of("error")[0]["kind"] == "endpoint"


def test_hanging_model_times_out_and_exits_4(endpoint: ScriptedEndpoint, run_agent) -> None:
    run = run_agent(endpoint.url, "scripted/hang", CAB_HTTP_TIMEOUT_S="0.3")
    assert run.exit_code == 4 and len(run.of("model_call")) == 4
    assert "timed out" in run.of("error")[0]["detail"]
