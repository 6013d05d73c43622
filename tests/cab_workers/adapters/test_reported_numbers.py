"""Numbers a TUI printed that are no count or duration become unknown: the report is never lost.

ModelCall rejects negative, NaN and infinite token counts and latencies; Python's ``json`` reads
``NaN``, ``Infinity`` and ``1e400`` (inf), so every adapter must turn them into None before building one.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cab_workers.adapters import ADAPTERS
from cab_workers.adapters.common import as_int, as_ms, human_count, json_lines, reported_calls
from cab_workers.adapters.mini_swe_agent import TRAJECTORY
from cab_workers.adapters.reference import ReferenceAdapter

pytestmark = pytest.mark.unit

HUGE = "1" + "0" * 400
"""An int no float can hold: no cost or ratio can be computed from it."""
BAD = ["-5", "-0.5", "NaN", "Infinity", "-Infinity", "1e400", "1.5", "true", '"12"', "null", HUGE]


def _id(number: str) -> str:
    return number if len(number) < 20 else f"{len(number)}-digit-int"


@pytest.mark.parametrize("number", BAD, ids=_id)
def test_as_int_and_as_ms_read_anything_but_a_finite_non_negative_number_as_unknown(number: str) -> None:
    value = json.loads(number)
    assert as_int(value) is None
    if number != "1.5":  # a fractional duration is a duration
        assert as_ms(value) is None
    assert as_ms(1.5) == 1.5 and as_ms(0) == 0.0 and as_int(0) == 0 and as_int(10**300) == 10**300


@pytest.mark.parametrize("number", BAD, ids=_id)
def test_negative_or_nan_latency_and_tokens_from_the_reference_agent_are_recorded_as_unknown(
    number: str, tmp_path: Path
) -> None:
    event = (
        f'{{"event": "model_call", "seq": {number}, "prompt_tokens": {number}, "completion_tokens": {number},'
        f' "latency_ms": {number}, "http_status": {number}, "model": "m"}}'
    )
    good = '{"event": "model_call", "seq": 1, "prompt_tokens": 3, "completion_tokens": 4, "latency_ms": 2.5}'
    report = ReferenceAdapter().report(f"{event}\n{good}\n", "", 0, tmp_path)
    bad, fine = report.model_calls
    assert (bad.prompt_tokens, bad.completion_tokens, bad.http_status) == (None, None, None)
    assert bad.latency_ms == (1.5 if number == "1.5" else None)  # a fractional latency is a latency
    assert bad.seq == 0  # no usable seq: its place in the output
    assert (fine.seq, fine.prompt_tokens, fine.completion_tokens, fine.latency_ms) == (1, 3, 4, 2.5)


def test_reported_calls_record_a_negative_count_as_unknown() -> None:
    calls = reported_calls([(-50, 7), (5, -1), (None, 10**400)], model="")
    assert [(c.prompt_tokens, c.completion_tokens) for c in calls] == [(None, 7), (5, None), (None, None)]


# One stdout line per TUI with every count wrong; ``want`` is what the report must record.
TUI_LINES = {
    "cline": (
        '{"type": "agent_event", "event": {"type": "usage", "inputTokens": -5, "outputTokens": NaN}}',
        None,
    ),
    "codex": ('{"type": "turn.completed", "usage": {"input_tokens": -5, "output_tokens": Infinity}}', None),
    # a negative cache read used to make the prompt negative
    "opencode": (
        '{"type": "step_finish", "part": {"tokens": {"input": 50, "output": -1, "cache": {"read": -100}}}}',
        (50, None),
    ),
    "pi": (
        '{"type": "message_end", "message": {"role": "assistant", "stopReason": "stop",'
        ' "usage": {"input": 50, "output": 7, "cacheRead": -100, "cacheWrite": NaN}, "content": []}}',
        (50, 7),
    ),
    "openhands": ('OH_RESULT {"exit": 0, "calls": [[-5, NaN]], "said": []}', None),
}


@pytest.mark.parametrize("tui", sorted(TUI_LINES))
def test_negative_or_nan_token_counts_a_tui_printed_are_recorded_as_unknown(tui: str, tmp_path: Path) -> None:
    line, want = TUI_LINES[tui]
    report = ADAPTERS[tui].report(line + "\n", "", 0, tmp_path)
    assert [(c.prompt_tokens, c.completion_tokens) for c in report.model_calls] == [want or (None, None)]


def test_a_negative_trajectory_usage_from_mini_swe_agent_is_unknown(tmp_path: Path) -> None:
    usage = '{"prompt_tokens": -5, "completion_tokens": Infinity}'
    (tmp_path / TRAJECTORY).write_text(
        f'{{"info": {{"exit_status": "Submitted"}}, "messages": [{{"role": "assistant", "content": "x",'
        f' "extra": {{"response": {{"usage": {usage}}}}}}}]}}'
    )
    report = ADAPTERS["mini-swe-agent"].report("", "", 0, tmp_path)
    assert [(c.prompt_tokens, c.completion_tokens) for c in report.model_calls] == [(None, None)]


def test_qwen_totals_below_the_sum_of_its_calls_make_no_negative_call(tmp_path: Path) -> None:
    """qwen's result total minus its per-message counts can be negative on one side."""
    lines = [
        {
            "type": "assistant",
            "message": {
                "content": [{"type": "text", "text": "hi"}],
                "usage": {"input_tokens": 100, "output_tokens": 5},
            },
        },
        {"type": "result", "result": "hi", "usage": {"input_tokens": 60, "output_tokens": 9}},
    ]
    report = ADAPTERS["qwen-code"].report("\n".join(json.dumps(x) for x in lines), "", 0, tmp_path)
    assert [(c.prompt_tokens, c.completion_tokens) for c in report.model_calls] == [(100, 5), (None, 4)]


def test_an_aider_count_too_long_for_a_float_is_unknown(tmp_path: Path) -> None:
    assert human_count("9" * 400) is None and human_count("1.5k") == 1500
    report = ADAPTERS["aider"].report(f"Tokens: {'9' * 400} sent, 31 received.\n", "", 0, tmp_path)
    assert [(c.prompt_tokens, c.completion_tokens) for c in report.model_calls] == [(None, 31)]


def test_a_json_line_with_an_integer_too_long_for_python_is_skipped() -> None:
    """json.loads raises a plain ValueError (not JSONDecodeError) for an int of over 4300 digits."""
    text = f'{{"n": {"9" * 5000}}}\n{{"n": 1}}\n'
    assert list(json_lines(text)) == [{"n": 1}]
