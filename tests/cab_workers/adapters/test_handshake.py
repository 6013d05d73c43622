"""When a TUI's report says handshake failure (infra: the TUI and the endpoint cannot talk at all).

A refusal (4xx but 429) is one only before any answer, and never when the error says the prompt
outgrew the model's context: a real llama-server answers a conversation past its slot's context with
400 ``exceeds the available context size``, which is the run's length, not the protocol.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cab_workers.adapters.aider import AiderAdapter
from cab_workers.adapters.common import TuiAdapter, context_overflow
from cab_workers.adapters.mini_swe_agent import TRAJECTORY, MiniSweAgentAdapter
from cab_workers.adapters.openhands import OpenHandsAdapter
from cab_workers.adapters.reference import ReferenceAdapter

pytestmark = pytest.mark.unit

LLAMA = "request (40509 tokens) exceeds the available context size (32768 tokens), try increasing it"
"""llama-server b11669's message (HTTP 400, type exceed_context_size_error)."""


@pytest.mark.parametrize(
    ("error", "overflow"),
    [
        (f"400 {LLAMA}", True),
        ("This model's maximum context length is 8192 tokens. However, you requested 9000", True),
        ("litellm.ContextWindowExceededError: ContextWindowExceededError: OpenAIException", True),
        ('{"error": {"code": "context_length_exceeded"}}', True),
        ("prompt is too long: 210000 tokens > 200000 maximum", True),
        ("404 Not Found", False),
        ("litellm.NotFoundError: model 'gemma3-270m' not found", False),
        ("401 Unauthorized", False),
        ("Connection error.", False),
        ("400 'messages' is required", False),
    ],
)
def test_context_overflow_reads_the_errors_endpoints_give(error: str, overflow: bool) -> None:
    assert context_overflow(error) is overflow


class _Tui(TuiAdapter):
    name = "tui"
    image_name = "tui"


@pytest.mark.parametrize(
    ("usages", "errors", "status", "handshake"),
    [
        ([], ["404 Not Found"], 404, True),
        ([], [f"400 {LLAMA}"], 400, False),
        ([(900, 512)], ["404 Not Found"], 404, False),  # it spoke before: a later refusal is no handshake
        ([(None, None)], ["401 Unauthorized"], 401, True),  # a count of nothing is no answer
        ([], ["429 Too Many Requests"], 429, False),
    ],
)
def test_read_back_calls_a_refusal_a_handshake_failure_only_before_any_answer(
    usages: list[tuple[int | None, int | None]], errors: list[str], status: int, handshake: bool
) -> None:
    report = _Tui().read_back(usages=usages, said=[], errors=errors, exit_code=0, stderr="", status=status)
    assert report.handshake_failed is handshake
    assert report.detail == f"tui: {errors[-1]}"


@pytest.mark.parametrize(
    ("detail", "handshake"), [(f"HTTP 400: {LLAMA}", False), ("HTTP 404: Not Found", True)]
)
def test_reference_agents_first_call_refused(detail: str, handshake: bool) -> None:
    stdout = json.dumps({"event": "error", "kind": "handshake", "detail": detail}) + "\n"
    report = ReferenceAdapter().report(stdout, "", 3, Path("/nonexistent"))
    assert report.handshake_failed is handshake


@pytest.mark.parametrize(
    ("line", "handshake"),
    [
        (f"litellm.BadRequestError: OpenAIException - {LLAMA}", False),
        ("litellm.NotFoundError: OpenAIException - Not found", True),
    ],
)
def test_aiders_first_call_refused(line: str, handshake: bool) -> None:
    report = AiderAdapter().report(f"{line}\n", "", 0, Path("/nonexistent"))
    assert report.handshake_failed is handshake


@pytest.mark.parametrize(("text", "handshake"), [(LLAMA, False), ("Not found", True)])
def test_mini_swe_agents_first_call_refused(tmp_path: Path, text: str, handshake: bool) -> None:
    status = "BadRequestError" if handshake is False else "NotFoundError"
    traj = {
        "info": {"exit_status": status},
        "messages": [{"role": "exit", "content": f"litellm.{status}: OpenAIException - {text}"}],
    }
    (tmp_path / TRAJECTORY).write_text(json.dumps(traj))
    report = MiniSweAgentAdapter().report("", "", 1, tmp_path)
    assert report.handshake_failed is handshake


@pytest.mark.parametrize(("reason", "handshake"), [(LLAMA, False), ("Not found", True)])
def test_openhands_first_call_refused(reason: str, handshake: bool) -> None:
    result = {"exit": 3, "state": "error", "reason": f"BadRequestError: litellm.BadRequestError: {reason}"}
    report = OpenHandsAdapter().report(f"OH_RESULT {json.dumps(result)}\n", "", 3, Path("/nonexistent"))
    assert report.handshake_failed is handshake
