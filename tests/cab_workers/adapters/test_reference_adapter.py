"""ReferenceAdapter and the adapter registry, without running anything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import cab_workers.adapters as adapters_pkg
from cab_core.errors import ConfigError
from cab_core.schema import CellSpec, TokenSource
from cab_workers.adapters import ADAPTERS, Adapter, EndpointWiring, get_adapter
from cab_workers.adapters.reference import ReferenceAdapter

from .conftest import unit_cell  # noqa: E402

pytestmark = pytest.mark.unit


def _cell() -> CellSpec:
    return unit_cell("reference", "p")


def test_registry_exports_and_lookup() -> None:
    assert sorted(adapters_pkg.__all__) == sorted(
        ["ADAPTERS", "Adapter", "AgentLaunch", "AgentReport", "EndpointWiring", "get_adapter"]
    )
    assert "reference" in ADAPTERS and "opencode" in ADAPTERS
    assert isinstance(get_adapter("reference"), ReferenceAdapter)
    for name, adapter in ADAPTERS.items():  # every module's ADAPTER keeps the whole contract
        assert isinstance(adapter, Adapter) and adapter.name == name
        assert isinstance(adapter.read_only_root, bool) and isinstance(adapter.scratch_dirs, tuple)


def test_unknown_tui_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"^unknown TUI 'aidr'; known: .*\breference\b"):
        get_adapter("aidr")


def test_launch_wires_the_endpoint() -> None:
    adapter = ReferenceAdapter()
    assert (adapter.name, adapter.image_name, adapter.state_globs) == ("reference", "reference", ())
    wiring = EndpointWiring(base_url="http://172.17.0.1:9/v1", api_key="cab-cell-x", model="scripted/oracle")
    launch = adapter.launch(_cell(), wiring, "cab/reference:dev")
    assert launch.image == "cab/reference:dev"
    assert launch.argv == ["python3", "/opt/cab/agent.py"]
    assert launch.env["CAB_BASE_URL"] == wiring.base_url and launch.env["CAB_API_KEY"] == "cab-cell-x"
    assert launch.env["CAB_MODEL"] == "scripted/oracle" and launch.env["CAB_PROMPT_FILE"] == "/cab/prompt.txt"
    assert launch.files == {}


def _line(**event: object) -> str:
    return json.dumps(event)


def test_report_ignores_noise_and_keeps_only_assistant_text(tmp_path: Path) -> None:
    stdout = "\n".join(
        [
            "Traceback? no, just a banner",
            "{not json",
            '["a", "list"]',
            _line(
                event="model_call",
                seq=0,
                ts="2026-01-02T03:04:05+00:00",
                request_sha256="ab" * 32,
                prompt_tokens=10,
                completion_tokens=3,
                latency_ms=12.5,
                finish_reason="tool_calls",
                http_status=200,
                model="scripted/oracle",
            ),
            _line(event="tool", command="cat secret.txt", exit_code=0),
            _line(event="assistant", content="First."),
            _line(event="model_call", seq=1, request_sha256="cd" * 32, prompt_tokens=True, latency_ms="slow"),
            _line(event="assistant", content="Second."),
            _line(event="done", turns=2, reason="answered"),
        ]
    )
    report = ReferenceAdapter().report(stdout, "", 0, tmp_path)
    assert report.transcript == "First.\n\nSecond."
    first, second = report.model_calls
    assert (first.seq, first.prompt_tokens, first.completion_tokens, first.latency_ms) == (0, 10, 3, 12.5)
    assert first.timestamp.year == 2026 and first.source == TokenSource.tui_stdout
    assert (second.seq, second.prompt_tokens, second.latency_ms, second.http_status) == (1, None, None, None)
    assert not report.handshake_failed and report.detail == ""


@pytest.mark.parametrize(
    ("exit_code", "stderr", "handshake", "detail"),
    [
        (3, "", True, "agent exited 3 (handshake failure)"),
        (
            4,
            "boom\nurlopen error: refused\n",
            False,
            "agent exited 4 (endpoint error) urlopen error: refused",
        ),
        (1, "Traceback ...\nKeyError: 'x'", False, "agent exited 1 (crashed) KeyError: 'x'"),
        (None, "", False, "agent did not exit on its own (killed or timed out)"),
    ],
)
def test_report_explains_failures_in_one_line(
    tmp_path: Path, exit_code: int | None, stderr: str, handshake: bool, detail: str
) -> None:
    report = ReferenceAdapter().report("", stderr, exit_code, tmp_path)
    assert (report.handshake_failed, report.detail) == (handshake, detail)


def test_report_prefers_the_agents_own_error_event(tmp_path: Path) -> None:
    stdout = _line(event="error", kind="handshake", detail="HTTP 404:\n {'error': ...}")
    report = ReferenceAdapter().report(stdout, "", 0, tmp_path)
    assert report.handshake_failed and report.detail == "handshake: HTTP 404: {'error': ...}"
