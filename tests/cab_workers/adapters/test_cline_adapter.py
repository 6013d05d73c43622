"""ClineAdapter without running anything: launch() wiring, report() on real cline 3.0.65 output.

Fixtures in ``fixtures/cline/`` are cline's ``--yolo --json`` stdout from cells run through the proxy
against the scripted endpoint (polyglot/python-semver-sort): ``oracle`` and ``noop`` (exit 0),
``badproto`` (404 on every call, exit 1) and ``internet`` (wired to an address the firewall refuses,
exit 1 after its six attempts). Two come from the research runs on the host against a fake endpoint:
``text-answer`` (without ``--yolo``: a plain-text final answer) and ``aborted-tail`` (the last lines
of a ``--yolo`` run whose model never called ``submit_and_exit``: aborted after 1825 iterations,
exit 0).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cab_core.schema import CellSpec, TokenSource
from cab_workers.adapters import ADAPTERS, AgentReport, EndpointWiring
from cab_workers.adapters.cline import ClineAdapter
from cab_workers.adapters.common import ENTRY, HOME_PREFIX

from .conftest import unit_cell  # noqa: E402

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).parent / "fixtures" / "cline"
WIRING = EndpointWiring(base_url="http://172.17.0.1:9/v1", api_key="cab-cell-x", model="scripted/oracle")
SETTINGS = HOME_PREFIX + ".cline/data/settings/"


def _cell(prompt: str = "Fix the sort order.") -> CellSpec:
    return unit_cell("cline", prompt)


def _report(name: str, exit_code: int = 0, stderr: str = "") -> AgentReport:
    stdout = (FIXTURES / f"{name}.jsonl").read_text()
    return ClineAdapter().report(stdout, stderr, exit_code, Path("/nonexistent"))


def _tokens(r: AgentReport) -> list[tuple[int | None, int | None]]:
    return [(c.prompt_tokens, c.completion_tokens) for c in r.model_calls]


def test_registered() -> None:
    adapter = ADAPTERS["cline"]
    assert isinstance(adapter, ClineAdapter)
    assert (adapter.image_name, adapter.state_globs, adapter.read_only_root) == ("cline", (), True)
    assert "/tmp" in adapter.scratch_dirs and "/home/agent" in adapter.scratch_dirs


def test_launch_wires_the_proxy_with_the_token_in_the_environment_only() -> None:
    launch = ClineAdapter().launch(_cell("Fix it: --all of it"), WIRING, "cab/cline:dev")
    assert launch.image == "cab/cline:dev"
    assert launch.argv == [ENTRY, "cline", "--yolo", "--json", "Fix it: --all of it"]
    assert launch.env["OPENAI_API_KEY"] == "cab-cell-x"
    assert launch.env["CLINE_SESSION_BACKEND_MODE"] == "local" and launch.env["CLINE_NO_AUTO_UPDATE"] == "1"
    assert all("cab-cell-x" not in a for a in launch.argv)
    assert all("cab-cell-x" not in c for c in launch.files.values())
    assert sorted(launch.files) == [SETTINGS + "global-settings.json", SETTINGS + "providers.json"]

    stored = json.loads(launch.files[SETTINGS + "providers.json"])
    assert stored["lastUsedProvider"] == "openai-compatible"
    entry = stored["providers"]["openai-compatible"]
    assert entry["settings"] == {
        "provider": "openai-compatible",
        "model": "scripted/oracle",
        "baseUrl": WIRING.base_url,
    }
    assert entry["updatedAt"] and entry["tokenSource"]  # without them cline replaces the file

    settings = json.loads(launch.files[SETTINGS + "global-settings.json"])
    assert settings == {"telemetryOptOut": True, "autoUpdateEnabled": False}


def test_report_of_an_oracle_run_counts_each_call_once() -> None:
    r = _report("oracle")
    assert _tokens(r) == [(1649, 891), (2643, 69)]  # not the cumulative total* fields
    assert all(c.source == TokenSource.tui_stdout for c in r.model_calls)
    assert r.transcript == "cab-finish: Done: I applied the fix and the work dir now holds the solution."
    assert not r.handshake_failed and r.detail == ""


def test_report_of_a_noop_run() -> None:
    r = _report("noop")
    assert _tokens(r) == [(1649, 64)]
    assert r.transcript == "cab-finish: I have looked at the code; no changes made."
    assert r.detail == ""


def test_a_plain_text_answer_is_the_transcript() -> None:
    r = _report("text-answer")
    assert _tokens(r) == [(123, 45), (123, 45)]
    assert r.transcript == "Done: created proof.txt." and r.detail == ""


def test_a_404_says_why_and_leaves_the_handshake_verdict_to_the_proxy() -> None:
    r = _report("badproto", exit_code=1)
    assert r.detail == "cline error: Not found: this endpoint does not serve chat completions."
    assert not r.handshake_failed and r.model_calls == [] and r.transcript == ""


def test_an_unreachable_endpoint_says_why() -> None:
    r = _report("internet", exit_code=1)
    assert r.detail.startswith("cline error: Cannot connect to API: ") and "ConnectionRefused" in r.detail
    assert r.model_calls == [] and r.transcript == ""


def test_an_aborted_run_is_a_failure_although_cline_exits_0_and_its_total_is_the_fallback() -> None:
    r = _report("aborted-tail", stderr="some noise\nlast words\n")
    assert r.detail == "cline aborted: last words"
    assert _tokens(r) == [(224475, 82125)]  # no per-call usage lines in the tail: the run's total


def test_a_crash_without_a_run_result_reports_the_exit_code() -> None:
    r = ClineAdapter().report("", "Error: boom\n", 137, Path("/nonexistent"))
    assert r.detail == "cline exited 137 without a run result: Error: boom" and r.model_calls == []
