"""The opencode adapter: its config points at the proxy, its output reads back (captured from real runs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cab_core.schema import CellSpec, TokenSource, make_cell_id
from cab_scheduler.catalog import TaskCatalog
from cab_workers.adapters import EndpointWiring, get_adapter
from cab_workers.adapters.common import ENTRY

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[3]
FIXTURES = Path(__file__).parent / "fixtures" / "opencode"
WIRING = EndpointWiring(
    base_url="http://172.19.0.1:41000/v1", api_key="cab-cell-token", model="scripted/oracle"
)


def cell() -> CellSpec:
    task = TaskCatalog(REPO / "tasks").load("polyglot/rust-lifetime-fix")
    cell_id = make_cell_id("s", "opencode", "scripted/oracle", task.task_id, 1)
    return CellSpec(cell_id=cell_id, sweep_id="s", tui="opencode", model="scripted/oracle", task=task)


def test_launch_wires_the_proxy_in_opencodes_own_config_and_keeps_the_token_out_of_argv() -> None:
    launch = get_adapter("opencode").launch(cell(), WIRING, "cab/opencode:x")
    assert launch.argv[:3] == [ENTRY, "opencode", "run"] and launch.argv[-1] == cell().task.prompt
    assert all("cab-cell-token" not in a for a in launch.argv)
    assert (
        launch.env["CAB_API_KEY"] == "cab-cell-token" and launch.env["OPENCODE_DISABLE_MODELS_FETCH"] == "1"
    )
    config = json.loads(launch.files["home/.config/opencode/opencode.json"])
    provider = config["provider"]["cab"]
    assert (
        provider["options"]["baseURL"] == WIRING.base_url
        and provider["options"]["apiKey"] == "{env:CAB_API_KEY}"
    )
    assert config["model"] == "cab/scripted/oracle" and "scripted/oracle" in provider["models"]
    assert config["agent"]["title"]["disable"] is True and config["snapshot"] is False


def test_report_reads_its_own_token_counts_and_words() -> None:
    report = get_adapter("opencode").report(
        (FIXTURES / "oracle.stdout").read_text(), "", 0, Path("/nonexistent")
    )
    assert report.model_calls and all(c.source == TokenSource.tui_stdout for c in report.model_calls)
    assert all(c.prompt_tokens and c.completion_tokens for c in report.model_calls)
    assert "Done" in report.transcript and not report.handshake_failed and report.detail == ""


def test_report_of_a_404_is_a_handshake_failure_with_the_endpoints_message() -> None:
    report = get_adapter("opencode").report((FIXTURES / "badproto.stdout").read_text(), "", 1, Path("/x"))
    assert report.handshake_failed and "does not serve chat completions" in report.detail
    assert report.model_calls == []
