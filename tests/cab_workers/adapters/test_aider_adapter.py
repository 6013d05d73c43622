"""AiderAdapter without Docker: its command line, and report() on output captured from real runs.

The fixtures under ``fixtures/aider/<case>/`` are what aider 0.86.2 printed in its image against the
scripted endpoint through the proxy (``stdout.txt``, ``stderr.txt``, ``exit_code``, and the /cab-out
files it wrote): ``oracle`` (polyglot/rust-lifetime-fix), ``noop``, ``badproto`` (404 on every call)
and ``internet`` (base URL an internet address: connection refused, aider's retries spent).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cab_core.schema import CellSpec, TokenSource
from cab_workers.adapters import ADAPTERS, EndpointWiring
from cab_workers.adapters.aider import AiderAdapter, said
from cab_workers.adapters.common import ENTRY

from .conftest import unit_cell  # noqa: E402

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).parent / "fixtures" / "aider"
WIRING = EndpointWiring(base_url="http://172.19.0.1:9/v1", api_key="cab-cell-secret", model="scripted/oracle")


def _cell() -> CellSpec:
    return unit_cell("aider", "Fix the greeting.")


def _captured(case: str) -> tuple[str, str, int | None, Path]:
    root = FIXTURES / case
    code = (root / "exit_code").read_text().strip()
    out = root / "out"
    return (
        (root / "stdout.txt").read_text(),
        (root / "stderr.txt").read_text(),
        None if code == "None" else int(code),
        out if out.is_dir() else root / "no-such-dir",
    )


def test_registered_with_its_state_in_work() -> None:
    adapter = ADAPTERS["aider"]
    assert isinstance(adapter, AiderAdapter) and adapter.image_name == "aider"
    assert adapter.state_globs == (".aider*",) and adapter.read_only_root
    assert set(adapter.scratch_dirs) == {"/tmp", "/home/agent"}


def test_launch_wires_model_endpoint_and_key_without_putting_the_key_in_argv() -> None:
    launch = AiderAdapter().launch(_cell(), WIRING, "cab/aider:dev")
    argv = launch.argv
    assert launch.image == "cab/aider:dev" and argv[:2] == [ENTRY, "aider"]

    def flag(name: str) -> str:
        return argv[argv.index(name) + 1]

    assert flag("--model") == "openai/scripted/oracle"
    assert flag("--openai-api-base") == WIRING.base_url
    assert flag("--edit-format") == "whole" and flag("--message-file") == "/cab/prompt.txt"
    assert flag("--model-metadata-file") == "/cab/aider/model-metadata.json"
    for switch in ("--yes-always", "--no-auto-commits", "--no-gitignore", "--no-check-update", "--no-pretty"):
        assert switch in argv
    for history in ("--chat-history-file", "--input-history-file", "--llm-history-file"):
        assert flag(history).startswith("/cab-out/")
    assert not any("cab-cell-secret" in a for a in argv) and "Fix the greeting." not in argv
    assert launch.env["OPENAI_API_KEY"] == "cab-cell-secret"
    assert launch.env["LITELLM_LOCAL_MODEL_COST_MAP"] == "True" and launch.env["HF_HUB_OFFLINE"] == "1"
    assert launch.env["GIT_CONFIG_KEY_0"] == "user.name" and launch.env["GIT_CONFIG_COUNT"] == "2"
    meta = json.loads(launch.files["aider/model-metadata.json"])
    assert list(meta) == ["openai/scripted/oracle"]
    assert meta["openai/scripted/oracle"]["input_cost_per_token"] == 0.0
    assert not any("cab-cell-secret" in v for v in launch.files.values())


def test_report_of_a_real_oracle_run() -> None:
    report = AiderAdapter().report(*_captured("oracle"))
    (call,) = report.model_calls
    assert (call.prompt_tokens, call.completion_tokens, call.source) == (1400, 324, TokenSource.tui_stdout)
    assert report.transcript.startswith("cab-scripted: every changed file follows in full.")
    assert "src/lib.rs\n```\n" in report.transcript and "Tokens:" not in report.transcript
    assert not report.handshake_failed and report.detail == ""


def test_report_of_a_real_noop_run() -> None:
    report = AiderAdapter().report(*_captured("noop"))
    assert [(c.prompt_tokens, c.completion_tokens) for c in report.model_calls] == [(1800, 11)]
    assert report.transcript == "I have looked at the code; no changes made."


def test_a_404_is_a_handshake_failure_with_the_error_line() -> None:
    report = AiderAdapter().report(*_captured("badproto"))
    assert report.handshake_failed and report.model_calls == [] and report.transcript == ""
    assert report.detail == (
        "litellm.BadRequestError: OpenAIException - Not found: this endpoint does not serve chat completions."
    )


def test_connection_errors_are_no_handshake_failure_and_report_no_call() -> None:
    report = AiderAdapter().report(*_captured("internet"))
    assert not report.handshake_failed and report.model_calls == []
    assert report.detail.endswith("InternalServerError: OpenAIException - Connection error.")


def test_token_lines_with_suffixes_and_cache_parts(tmp_path: Path) -> None:
    stdout = "\n".join(
        [
            "Tokens: 788 sent, 31 received.",
            "Tokens: 12k sent, 1.2k cache write, 3.4k cache hit, 2.5k received. Cost: $0.01 message.",
            "  Tokens: 5 sent, 5 received.",  # not at a line start: not aider's report
            "Tokens: 1.5M sent, 999 received.",
        ]
    )
    report = AiderAdapter().report(stdout, "", 0, tmp_path)
    assert [(c.prompt_tokens, c.completion_tokens) for c in report.model_calls] == [
        (788, 31),
        (12_000, 2_500),
        (1_500_000, 999),
    ]
    assert [c.seq for c in report.model_calls] == [0, 1, 2]


def test_a_crash_is_explained_in_one_line(tmp_path: Path) -> None:
    stderr = "Traceback ...\nModuleNotFoundError: audioop\n"
    report = AiderAdapter().report("Aider v0.86.2\n", stderr, 1, tmp_path)
    assert report.detail == "aider exited 1: ModuleNotFoundError: audioop" and not report.handshake_failed


def test_said_reads_only_the_replies_of_the_llm_history() -> None:
    history = "\n".join(
        [
            "TO LLM 2026-01-01T00:00:00",
            "SYSTEM Act as an expert.",
            "USER Fix it.",
            "ASSISTANT an earlier few-shot turn",
            "LLM RESPONSE 2026-01-01T00:00:01",
            "ASSISTANT First line.",
            "ASSISTANT",
            "ASSISTANT Third line.",
            "LLM RESPONSE 2026-01-01T00:00:02",
            "TO LLM 2026-01-01T00:00:03",
            "USER again",
            "LLM RESPONSE 2026-01-01T00:00:04",
            "ASSISTANT Done.",
        ]
    )
    assert said(history) == ["First line.\n\nThird line.", "Done."]
