"""The OpenHands adapter: its config points at the proxy, its wrapper's output reads back.

Fixtures are real runs of the image through the proxy (stdout whole, the last lines of stderr):
oracle, noop, badproto (404), internet (an address the firewall refuses) and crash (a read-only
/tmp: OpenHands dies before the wrapper can print its result).
"""

from __future__ import annotations

import importlib.util
import json
import tomllib
from pathlib import Path

import pytest

from cab_core.schema import CellSpec, TokenSource, make_cell_id
from cab_scheduler.catalog import TaskCatalog
from cab_workers.adapters import EndpointWiring, get_adapter
from cab_workers.adapters.common import ENTRY, HOME
from cab_workers.adapters.openhands import result_of

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[3]
FIXTURES = Path(__file__).parent / "fixtures" / "openhands"
WIRING = EndpointWiring(
    base_url="http://172.19.0.1:41000/v1", api_key="cab-cell-token", model="scripted/oracle"
)


def cell() -> CellSpec:
    task = TaskCatalog(REPO / "tasks").load("polyglot/python-semver-sort")
    cell_id = make_cell_id("s", "openhands", "scripted/oracle", task.task_id, 1)
    return CellSpec(cell_id=cell_id, sweep_id="s", tui="openhands", model="scripted/oracle", task=task)


def report(case: str):
    d = FIXTURES / case
    code = int((d / "exit_code").read_text())
    stdout, stderr = (d / "stdout.txt").read_text(), (d / "stderr.txt").read_text()
    return get_adapter("openhands").report(stdout, stderr, code, Path("/nonexistent"))


def oh_run():
    """images/openhands/oh_run.py as a module (it imports OpenHands only when it runs)."""
    spec = importlib.util.spec_from_file_location("oh_run", REPO / "images" / "openhands" / "oh_run.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_launch_wires_the_proxy_in_the_config_file_and_the_token_in_the_environment_only() -> None:
    adapter = get_adapter("openhands")
    assert adapter.state_globs == () and adapter.read_only_root
    assert set(adapter.scratch_dirs) == {"/tmp", HOME}
    launch = adapter.launch(cell(), WIRING, "cab/openhands:x")
    assert launch.image == "cab/openhands:x"
    assert launch.argv == [
        ENTRY,
        "/opt/openhands/venv/bin/python",
        "/opt/openhands/oh_run.py",
        "--config-file",
        f"{HOME}/.openhands/config.toml",
        "-f",
        "/cab/prompt.txt",
    ]
    assert launch.env["LLM_API_KEY"] == "cab-cell-token" and launch.env["SANDBOX_ENV_LLM_API_KEY"] == ""
    assert json.loads(launch.env["LLM_COMPLETION_KWARGS"]) == {"max_retries": 0}
    assert list(launch.files) == ["home/.openhands/config.toml"]
    text = launch.files["home/.openhands/config.toml"]
    assert "cab-cell-token" not in text and all("cab-cell-token" not in a for a in launch.argv)
    config = tomllib.loads(text)
    assert config["llm"]["model"] == "openai/scripted/oracle" and config["llm"]["base_url"] == WIRING.base_url
    assert "api_key" not in config["llm"] and config["llm"]["native_tool_calling"] is True
    assert config["llm"]["num_retries"] <= 2 and config["llm"]["retry_max_wait"] <= 5
    core = config["core"]
    assert (core["runtime"], core["workspace_base"], core["enable_browser"]) == ("local", "/work", False)
    assert core["save_trajectory_path"].startswith("/cab-out/")
    assert core["file_store_path"].startswith(HOME)
    assert not any(config["agent"][k] for k in ("enable_browsing", "enable_jupyter", "enable_mcp"))
    assert config["security"]["confirmation_mode"] is False


def test_report_reads_its_own_token_counts_and_words() -> None:
    r = report("oracle")
    assert [(c.prompt_tokens, c.completion_tokens) for c in r.model_calls] == [(3732, 1185), (4976, 62)]
    assert all(c.source == TokenSource.tui_stdout for c in r.model_calls)
    assert r.transcript == "cab-finish: Done: I applied the fix and the work dir now holds the solution."
    assert not r.handshake_failed and r.detail == ""


def test_report_of_a_noop_run_is_a_clean_finish() -> None:
    r = report("noop")
    assert len(r.model_calls) == 1 and "no changes made" in r.transcript
    assert not r.handshake_failed and r.detail == ""


def test_report_of_a_404_is_a_handshake_failure_with_the_endpoints_message() -> None:
    r = report("badproto")
    assert r.handshake_failed and r.model_calls == []
    assert r.detail.startswith("OpenHands was refused by the endpoint: BadRequestError")
    assert "does not serve chat completions" in r.detail


def test_report_of_an_unreachable_endpoint_is_no_call_and_no_handshake() -> None:
    r = report("internet")
    assert not r.handshake_failed and r.model_calls == [] and r.transcript == ""
    assert r.detail == "OpenHands could not reach the endpoint: STATUS$ERROR_LLM_INTERNAL_SERVER_ERROR"


def test_report_of_a_crash_without_a_result_line_names_the_error() -> None:
    r = report("crash")
    assert not r.handshake_failed and r.model_calls == []
    assert r.detail == "openhands exited 1: OSError: [Errno 30] Read-only file system: '/tmp/cache'"


@pytest.mark.parametrize(
    ("finished", "reason", "code"),
    [
        (True, "", 0),
        (False, "RuntimeError: Agent reached maximum iteration. Current iteration: 1, max iteration: 1", 2),
        (False, result_of((FIXTURES / "badproto" / "stdout.txt").read_text())["reason"], 3),
        (False, "NotFoundError: litellm.NotFoundError: OpenAIException - The model does not exist", 3),
        (False, "STATUS$ERROR_LLM_AUTHENTICATION", 3),
        (False, result_of((FIXTURES / "internet" / "stdout.txt").read_text())["reason"], 4),
        (False, "Timeout: litellm.Timeout: APITimeoutError - Request timed out.", 4),
        (False, "STATUS$ERROR_LLM_SERVICE_UNAVAILABLE", 4),
        (False, "ended as stopped", 1),
    ],
)
def test_the_wrapper_maps_the_last_error_to_its_exit_code(finished: bool, reason: str, code: int) -> None:
    assert oh_run().exit_code(finished, reason) == code
