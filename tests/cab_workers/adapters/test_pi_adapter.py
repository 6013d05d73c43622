"""PiAdapter without running anything: launch() wiring, report() on real pi 0.73.1 output.

Fixtures in ``fixtures/pi/`` are pi's ``--mode json`` stdout from cells run through the proxy
against the scripted endpoint (polyglot/python-semver-sort): ``oracle`` (the streamed
``toolcall_delta`` lines, ~450 KB of partial tool arguments, were dropped), ``noop``, ``badproto``
(404 on every call) and ``internet`` (wired to an address the firewall refuses). ``overflow`` is a
real llama-server's (Gemma 3 270M, 32k context per slot) answer to a prompt padded past the context:
400 ``exceeds the available context size``, then pi's ``compaction_start`` (the 1,100 padding lines are
cut to three in the fixture). pi exited 0 in all.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cab_core.schema import CellSpec, TokenSource
from cab_workers.adapters import ADAPTERS, AgentReport, EndpointWiring
from cab_workers.adapters.common import ENTRY, HOME_PREFIX
from cab_workers.adapters.pi import PiAdapter

from .conftest import unit_cell  # noqa: E402

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).parent / "fixtures" / "pi"
WIRING = EndpointWiring(base_url="http://172.17.0.1:9/v1", api_key="cab-cell-x", model="scripted/oracle")


def _cell(prompt: str = "Fix the sort order.") -> CellSpec:
    return unit_cell("pi", prompt)


def _report(name: str) -> AgentReport:
    """report() of a captured run (pi exited 0, stderr empty)."""
    return PiAdapter().report((FIXTURES / f"{name}.jsonl").read_text(), "", 0, Path("/nonexistent"))


def test_registered() -> None:
    adapter = ADAPTERS["pi"]
    assert isinstance(adapter, PiAdapter)
    assert (adapter.image_name, adapter.state_globs, adapter.read_only_root) == ("pi", (), True)
    assert "/tmp" in adapter.scratch_dirs and "/home/agent" in adapter.scratch_dirs


def test_launch_wires_the_proxy_with_the_token_in_the_environment_only() -> None:
    launch = PiAdapter().launch(_cell("Fix it: --all of it"), WIRING, "cab/pi:dev")
    assert launch.image == "cab/pi:dev"
    assert launch.argv == [ENTRY, "pi", "--mode", "json", "-p", "--no-session", "Fix it: --all of it"]
    assert launch.env["CAB_API_KEY"] == "cab-cell-x"
    assert launch.env["PI_OFFLINE"] == "1" and launch.env["PI_SKIP_VERSION_CHECK"] == "1"
    assert launch.env["PI_TELEMETRY"] == "0"
    assert all("cab-cell-x" not in a for a in launch.argv)
    assert all("cab-cell-x" not in c for c in launch.files.values())
    agent = HOME_PREFIX + ".pi/agent/"
    assert sorted(launch.files) == [agent + "models.json", agent + "settings.json"]

    provider = json.loads(launch.files[agent + "models.json"])["providers"]["cab"]
    assert provider["baseUrl"] == WIRING.base_url and provider["api"] == "openai-completions"
    assert provider["apiKey"] == "CAB_API_KEY"  # the NAME of the variable; pi reads its value
    assert [m["id"] for m in provider["models"]] == ["scripted/oracle"]

    settings = json.loads(launch.files[agent + "settings.json"])
    assert (settings["defaultProvider"], settings["defaultModel"]) == ("cab", "scripted/oracle")
    assert settings["enableInstallTelemetry"] is False
    assert settings["retry"]["enabled"] is False and settings["retry"]["provider"]["maxRetries"] == 0


def test_report_of_an_oracle_run_counts_each_call_once() -> None:
    r = _report("oracle")
    assert [(c.prompt_tokens, c.completion_tokens) for c in r.model_calls] == [(877, 889), (1787, 25)]
    assert all(c.source == TokenSource.tui_stdout for c in r.model_calls)
    assert r.transcript == "Done: I applied the fix and the work dir now holds the solution."
    assert not r.handshake_failed and r.detail == ""


def test_report_of_a_noop_run() -> None:
    r = _report("noop")
    assert [(c.prompt_tokens, c.completion_tokens) for c in r.model_calls] == [(877, 19)]
    assert r.transcript == "I have looked at the code; no changes made."
    assert not r.handshake_failed and r.detail == ""


def test_a_404_is_a_handshake_failure_although_pi_exits_0() -> None:
    r = _report("badproto")
    assert r.handshake_failed
    assert r.detail.startswith("pi: 404 ") and r.model_calls == [] and r.transcript == ""


def test_an_unreachable_endpoint_is_not_a_handshake_failure_but_says_why() -> None:
    r = _report("internet")
    assert not r.handshake_failed and r.detail == "pi: Connection error."
    assert r.model_calls == [] and r.transcript == ""


def test_a_crash_before_any_event_reports_the_exit_code_and_last_stderr_line() -> None:
    r = PiAdapter().report("", "starting\nError: boom\n", 1, Path("/nonexistent"))
    assert r.detail == "pi exited 1: Error: boom" and not r.handshake_failed and r.model_calls == []


def test_a_prompt_past_the_models_context_is_no_handshake_failure() -> None:
    """Regression: a real llama-server's 400 for a 40k-token prompt made the cell an infra failure
    ("handshake failure: pi: 400 request (40509 tokens) exceeds ..."), retried as if the endpoint were
    at fault; the TUI and the endpoint did speak, the conversation did not fit."""
    r = _report("overflow")
    assert not r.handshake_failed
    assert r.detail.startswith("pi: 400 request (40509 tokens) exceeds the available context size")
    assert r.model_calls == [] and r.transcript == ""
