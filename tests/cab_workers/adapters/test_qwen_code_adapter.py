"""QwenCodeAdapter without running anything: its launch, and its report of qwen-code's real output.

The ``*.stdout.jsonl`` fixtures are qwen-code 0.15.10's ``-o stream-json`` stdout from real cells
against the scripted endpoint (oracle, noop, badproto's 404, and a base URL on the internet that the
firewall refuses); ``output-json.json`` is its ``-o json`` array from the research run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cab_core.schema import CellSpec, TokenSource
from cab_workers.adapters import ADAPTERS, AgentReport, EndpointWiring
from cab_workers.adapters.common import ENTRY
from cab_workers.adapters.qwen_code import QwenCodeAdapter

from .conftest import unit_cell  # noqa: E402

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).parent / "fixtures" / "qwen-code"
WIRING = EndpointWiring(base_url="http://172.17.0.1:9/v1", api_key="cab-cell-x", model="scripted/oracle")


def _cell() -> CellSpec:
    return unit_cell("qwen-code", "-p Fix 'greet'")


def _fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def _report(name: str, exit_code: int = 0) -> AgentReport:
    return QwenCodeAdapter().report(_fixture(name), "", exit_code, Path("/x"))


def test_registered() -> None:
    adapter = ADAPTERS["qwen-code"]
    assert isinstance(adapter, QwenCodeAdapter)
    assert (adapter.image_name, adapter.state_globs, adapter.read_only_root) == ("qwen-code", (), True)
    assert "/home/agent" in adapter.scratch_dirs and "/tmp" in adapter.scratch_dirs


def test_launch_runs_yolo_with_the_prompt_as_one_argument_and_the_endpoint_in_the_environment() -> None:
    launch = QwenCodeAdapter().launch(_cell(), WIRING, "cab/qwen-code:dev")
    assert launch.image == "cab/qwen-code:dev"
    assert launch.argv == [ENTRY, "qwen", "--yolo", "-o", "stream-json", "-p Fix 'greet'"]
    assert launch.env["OPENAI_API_KEY"] == "cab-cell-x"
    assert launch.env["OPENAI_BASE_URL"] == WIRING.base_url
    assert launch.env["OPENAI_MODEL"] == "scripted/oracle"
    assert launch.env["QWEN_CODE_NO_RELAUNCH"] == "1"
    assert all("cab-cell-x" not in a for a in launch.argv)
    assert list(launch.files) == ["home/.qwen/settings.json"]
    assert "cab-cell-x" not in launch.files["home/.qwen/settings.json"]


def test_settings_select_openai_and_switch_off_what_calls_out() -> None:
    launch = QwenCodeAdapter().launch(_cell(), WIRING, "cab/qwen-code:dev")
    cfg = json.loads(launch.files["home/.qwen/settings.json"])
    assert cfg["security"]["auth"]["selectedType"] == "openai"
    assert cfg["model"]["name"] == "scripted/oracle"
    assert cfg["model"]["generationConfig"]["maxRetries"] == 0
    assert cfg["privacy"]["usageStatisticsEnabled"] is False and cfg["telemetry"]["enabled"] is False
    assert cfg["memory"]["enableManagedAutoMemory"] is False
    assert cfg["$version"] == 4


def test_report_of_a_solved_task_has_one_call_per_assistant_message() -> None:
    report = _report("oracle.stdout.jsonl")
    assert [(c.prompt_tokens, c.completion_tokens) for c in report.model_calls] == [(7051, 892), (8841, 25)]
    assert all(c.source == TokenSource.tui_stdout for c in report.model_calls)
    assert report.transcript == "Done: I applied the fix and the work dir now holds the solution."
    assert not report.handshake_failed and report.detail == ""


def test_report_of_noop_keeps_its_words_only() -> None:
    report = _report("noop.stdout.jsonl")
    assert report.transcript == "I have looked at the code; no changes made."
    assert [(c.prompt_tokens, c.completion_tokens) for c in report.model_calls] == [(7051, 19)]


def test_background_calls_only_the_result_counts_are_one_more_call() -> None:
    lines = _fixture("noop.stdout.jsonl").splitlines()
    result = json.loads(lines[-1])
    result["usage"] = {"input_tokens": 7051 + 6885, "output_tokens": 19 + 19}
    stdout = "\n".join([*lines[:-1], json.dumps(result)])
    report = QwenCodeAdapter().report(stdout, "", 0, Path("/x"))
    assert [(c.prompt_tokens, c.completion_tokens) for c in report.model_calls] == [(7051, 19), (6885, 19)]


def test_report_reads_the_json_array_too() -> None:
    report = _report("output-json.json")
    assert [(c.prompt_tokens, c.completion_tokens) for c in report.model_calls] == [(123, 45), (123, 45)]
    assert report.transcript == "Done: created proof.txt."


def test_report_of_a_404_is_a_handshake_failure_although_qwen_exits_0() -> None:
    report = _report("badproto.stdout.jsonl")
    assert report.handshake_failed and report.model_calls == [] and report.transcript == ""
    assert report.detail.startswith("qwen-code: [API Error: 404 Not found")


def test_report_of_an_unreachable_endpoint_is_no_call_and_no_handshake() -> None:
    report = _report("internet.stdout.jsonl")
    assert not report.handshake_failed and report.model_calls == [] and report.transcript == ""
    assert report.detail == "qwen-code: [API Error: Connection error. (cause: fetch failed)]"


def test_report_of_a_run_cut_short_keeps_what_it_said() -> None:
    lines = _fixture("oracle.stdout.jsonl").splitlines()[:-1]  # killed before its result line
    report = QwenCodeAdapter().report("\n".join(lines) + '\n{"type": "assis', "", None, Path("/x"))
    assert len(report.model_calls) == 2 and report.transcript.startswith("Done:")


def test_report_of_a_crash_names_the_exit_code() -> None:
    report = QwenCodeAdapter().report("", "No auth type is selected.\n", 1, Path("/x"))
    assert report.detail == "qwen-code exited 1: No auth type is selected."
    assert not report.handshake_failed and report.model_calls == []
