"""CodexAdapter without running anything: its launch, and its report of codex's real ``--json`` output.

The fixtures are codex 0.171.0's stdout from real cells against the scripted endpoint (oracle, noop,
badproto's 404, and a base URL on the internet that the firewall refuses).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from cab_core.schema import CellSpec, TokenSource
from cab_workers.adapters import ADAPTERS, EndpointWiring
from cab_workers.adapters.codex import CodexAdapter
from cab_workers.adapters.common import ENTRY

from .conftest import unit_cell  # noqa: E402

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).parent / "fixtures" / "codex"
WIRING = EndpointWiring(base_url="http://172.17.0.1:9/v1", api_key="cab-cell-x", model="scripted/oracle")


def _cell() -> CellSpec:
    return unit_cell("codex", 'Fix "greet" --now')


def _fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_registered() -> None:
    adapter = ADAPTERS["codex"]
    assert isinstance(adapter, CodexAdapter)
    assert (adapter.image_name, adapter.state_globs, adapter.read_only_root) == ("codex", (), True)
    assert "/home/agent" in adapter.scratch_dirs and "/tmp" in adapter.scratch_dirs


def test_launch_runs_exec_with_the_prompt_as_one_argument_and_the_token_in_the_environment() -> None:
    launch = CodexAdapter().launch(_cell(), WIRING, "cab/codex:dev")
    assert launch.image == "cab/codex:dev"
    assert launch.argv[:3] == [ENTRY, "codex", "exec"]
    assert "--dangerously-bypass-approvals-and-sandbox" in launch.argv and "--json" in launch.argv
    assert "--skip-git-repo-check" in launch.argv and "--ephemeral" in launch.argv
    assert launch.argv[-1] == 'Fix "greet" --now'
    assert launch.env["CAB_API_KEY"] == "cab-cell-x"
    assert all("cab-cell-x" not in a for a in launch.argv)
    assert list(launch.files) == ["home/.codex/config.toml"]
    assert "cab-cell-x" not in launch.files["home/.codex/config.toml"]


def test_config_points_the_responses_api_at_the_proxy_and_gives_up_fast() -> None:
    launch = CodexAdapter().launch(_cell(), WIRING, "cab/codex:dev")
    cfg = tomllib.loads(launch.files["home/.codex/config.toml"])
    assert (cfg["model"], cfg["model_provider"]) == ("scripted/oracle", "cab")
    provider = cfg["model_providers"]["cab"]
    assert provider["base_url"] == WIRING.base_url and provider["env_key"] == "CAB_API_KEY"
    assert provider["wire_api"] == "responses"
    assert provider["request_max_retries"] == 0 and provider["stream_max_retries"] == 0
    assert cfg["features"]["unbounded_connection_retries"] is False
    assert cfg["features"]["plugins"] is False and cfg["analytics"]["enabled"] is False
    assert cfg["otel"]["metrics_exporter"] == "none"
    assert (cfg["approval_policy"], cfg["sandbox_mode"]) == ("never", "danger-full-access")


def test_config_escapes_odd_model_names() -> None:
    wiring = EndpointWiring(base_url=WIRING.base_url, api_key="k", model='we"ird\\model')
    cfg = tomllib.loads(CodexAdapter().launch(_cell(), wiring, "i").files["home/.codex/config.toml"])
    assert cfg["model"] == 'we"ird\\model'


def test_report_of_a_solved_task() -> None:
    report = CodexAdapter().report(_fixture("oracle.stdout.jsonl"), _fixture("stderr.txt"), 0, Path("/x"))
    assert [(c.prompt_tokens, c.completion_tokens) for c in report.model_calls] == [(11970, 946)]
    assert all(c.source == TokenSource.tui_stdout for c in report.model_calls)
    assert report.transcript == "Done: I applied the fix and the work dir now holds the solution."
    assert not report.handshake_failed and report.detail == ""


def test_report_of_noop_keeps_its_words_only() -> None:
    report = CodexAdapter().report(_fixture("noop.stdout.jsonl"), _fixture("stderr.txt"), 0, Path("/x"))
    assert report.transcript == "I have looked at the code; no changes made."
    assert [(c.prompt_tokens, c.completion_tokens) for c in report.model_calls] == [(5510, 50)]
    assert "Model metadata" not in report.transcript  # codex's own warning item is not the model's


def test_report_of_a_404_is_a_handshake_failure() -> None:
    report = CodexAdapter().report(_fixture("badproto.stdout.jsonl"), _fixture("stderr.txt"), 1, Path("/x"))
    assert report.handshake_failed and report.model_calls == []
    assert report.detail.startswith("codex: unexpected status 404 Not Found")
    assert "\n" not in report.detail


def test_report_of_an_unreachable_endpoint_is_no_call_and_no_handshake() -> None:
    report = CodexAdapter().report(_fixture("internet.stdout.jsonl"), _fixture("stderr.txt"), 1, Path("/x"))
    assert not report.handshake_failed and report.model_calls == [] and report.transcript == ""
    assert report.detail == "codex: Connection failed: error sending request"


def test_report_of_a_crash_before_any_event_names_the_exit_code() -> None:
    report = CodexAdapter().report("", "boot\nError loading config.toml: bad\n", 1, Path("/x"))
    assert report.detail == "codex exited 1: Error loading config.toml: bad"
    assert not report.handshake_failed and report.model_calls == []
