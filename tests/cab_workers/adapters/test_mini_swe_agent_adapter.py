"""MiniSweAgentAdapter without Docker: its command line, and report() on output captured from real runs.

The fixtures under ``fixtures/mini-swe-agent/<case>/`` are what mini-swe-agent 2.4.6 wrote in its
image against the scripted endpoint through the proxy (``stdout.txt``, ``stderr.txt`` (its last 20
lines: the rest is a rich traceback), ``exit_code``, and ``out/mini.traj.json``): ``oracle``
(polyglot/python-semver-sort), ``noop``, ``badproto`` (404 on every call) and ``internet`` (base URL
an internet address: connection refused).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from cab_core.schema import CellSpec, TokenSource
from cab_workers.adapters import ADAPTERS, EndpointWiring
from cab_workers.adapters.common import ENTRY
from cab_workers.adapters.mini_swe_agent import MiniSweAgentAdapter, task_config

from .conftest import unit_cell  # noqa: E402

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).parent / "fixtures" / "mini-swe-agent"
WIRING = EndpointWiring(base_url="http://172.19.0.1:9/v1", api_key="cab-cell-secret", model="scripted/oracle")
PROMPT = 'Fix "it": {{task}} & keep `x: y`\n- a list?\n'


def _cell() -> CellSpec:
    return unit_cell("mini-swe-agent", PROMPT)


def _captured(case: str) -> tuple[str, str, int | None, Path]:
    root = FIXTURES / case
    return (
        (root / "stdout.txt").read_text(),
        (root / "stderr.txt").read_text(),
        int((root / "exit_code").read_text()),
        root / "out",
    )


def test_registered_with_no_state_in_work() -> None:
    adapter = ADAPTERS["mini-swe-agent"]
    assert isinstance(adapter, MiniSweAgentAdapter) and adapter.image_name == "mini-swe-agent"
    assert adapter.state_globs == () and adapter.read_only_root
    assert set(adapter.scratch_dirs) == {"/tmp", "/home/agent"}


def test_launch_wires_model_endpoint_and_key_through_the_environment() -> None:
    launch = MiniSweAgentAdapter().launch(_cell(), WIRING, "cab/mini-swe-agent:dev")
    assert launch.image == "cab/mini-swe-agent:dev"
    assert launch.argv == [
        ENTRY, "mini", "-m", "openai/scripted/oracle",
        "-c", "mini.yaml", "-c", "/cab/cab-overlay.yaml", "-c", "/cab/task.yaml",
        "--yolo", "--exit-immediately", "-o", "/cab-out/mini.traj.json",
    ]  # fmt: skip
    env = launch.env
    assert env["OPENAI_API_BASE"] == WIRING.base_url and env["OPENAI_API_KEY"] == "cab-cell-secret"
    assert env["MSWEA_CONFIGURED"] == "true" and env["MSWEA_COST_TRACKING"] == "ignore_errors"
    assert env["MSWEA_MODEL_RETRY_STOP_AFTER_ATTEMPT"] == "1"
    assert env["MSWEA_GLOBAL_CONFIG_DIR"].startswith("/home/agent/")
    assert env["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
    assert not any("cab-cell-secret" in v for v in launch.files.values())
    overlay = yaml.safe_load(launch.files["cab-overlay.yaml"])
    assert overlay["agent"] == {"mode": "yolo", "confirm_exit": False, "cost_limit": 0}
    assert overlay["model"]["model_kwargs"]["max_retries"] == 0
    assert yaml.safe_load(launch.files["task.yaml"]) == {"run": {"task": PROMPT}}


def test_task_config_keeps_any_prompt_verbatim() -> None:
    for prompt in ["plain", "ünïcode ✓ 🚀", "key: value\n  indented\n\ttab", "- [x]\n'\"", "---\n...\n"]:
        assert yaml.safe_load(task_config(prompt)) == {"run": {"task": prompt}}


def test_report_of_a_real_oracle_run() -> None:
    report = MiniSweAgentAdapter().report(*_captured("oracle"))
    assert [(c.prompt_tokens, c.completion_tokens) for c in report.model_calls] == [(1041, 889), (1956, 57)]
    assert all(c.source == TokenSource.tui_stdout for c in report.model_calls)
    assert report.transcript == ""  # the scripted model only calls tools; the proxy's record fills it in
    assert not report.handshake_failed and report.detail == ""


def test_report_of_a_real_noop_run() -> None:
    report = MiniSweAgentAdapter().report(*_captured("noop"))
    assert [(c.prompt_tokens, c.completion_tokens) for c in report.model_calls] == [(1041, 57)]
    assert not report.handshake_failed and report.detail == ""


def test_a_404_is_a_handshake_failure() -> None:
    report = MiniSweAgentAdapter().report(*_captured("badproto"))
    assert report.handshake_failed and report.model_calls == []
    assert report.detail.startswith("NotFoundError: litellm.NotFoundError: ")
    assert report.detail.endswith("Not found: this endpoint does not serve chat completions.")


def test_a_refused_connection_is_no_handshake_failure_and_reports_no_call() -> None:
    report = MiniSweAgentAdapter().report(*_captured("internet"))
    assert not report.handshake_failed and report.model_calls == []
    assert report.detail.startswith("InternalServerError: ") and report.detail.endswith("Connection error.")


def test_transcript_and_format_error_usage(tmp_path: Path) -> None:
    usage = {"response": {"usage": {"prompt_tokens": 10, "completion_tokens": 2}}}
    traj = {
        "info": {"exit_status": "RepeatedFormatError"},
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Please solve this issue: x"},
            {"role": "assistant", "content": "I will look first.", "extra": usage},
            {"role": "tool", "content": "secret tool output"},
            {"role": "user", "content": "Tool call error: no tool call", "extra": usage},
            {"role": "assistant", "content": None, "extra": {"response": {"usage": {"prompt_tokens": 12}}}},
            {"role": "assistant", "content": "  Done.  "},
            {"role": "exit", "content": "RepeatedFormatError"},
        ],
    }
    (tmp_path / "mini.traj.json").write_text(json.dumps(traj))
    report = MiniSweAgentAdapter().report("", "", 0, tmp_path)
    assert report.transcript == "I will look first.\n\nDone."
    calls = [(c.prompt_tokens, c.completion_tokens) for c in report.model_calls]
    assert calls == [(10, 2), (10, 2), (12, None)]
    assert report.detail == "" and not report.handshake_failed


def test_a_crash_before_any_trajectory_is_explained(tmp_path: Path) -> None:
    stderr = "Traceback ...\nAttributeError: 'NoneType' object has no attribute 'fileno'\n"
    report = MiniSweAgentAdapter().report("", stderr, 1, tmp_path)
    assert report.detail == "mini exited 1: AttributeError: 'NoneType' object has no attribute 'fileno'"
    assert report.model_calls == [] and not report.handshake_failed
    (tmp_path / "mini.traj.json").write_text("{truncated")
    assert MiniSweAgentAdapter().report("", stderr, 1, tmp_path).detail.startswith("mini exited 1: ")
