"""A model call's sampling parameters as text (pure): what the agent sent, what cab set in its place,
and a cell's distinct sets; agent strings stay inert text."""

from __future__ import annotations

from typing import Any

import pytest

from cab_core.schema import ModelCall
from cab_site.present.sampling import MAX_LINE, MAX_SETS, NONE, call_sampling, pairs, sampling_rows
from tests.cab_core.store.factories import make_result

pytestmark = pytest.mark.unit

BASE = make_result(calls=1).model_calls[0]


def call(sent: dict[str, Any], forced: dict[str, Any] | None = None) -> ModelCall:
    return BASE.model_copy(update={"sampling": sent, "sampling_forced": forced or {}})


@pytest.mark.parametrize(
    ("sent", "forced", "want"),
    [
        ({}, {}, NONE),
        ({"temperature": 0, "top_p": 0.95}, {}, "temperature=0 top_p=0.95"),
        ({"temperature": 0.7}, {"temperature": 0.0}, "temperature=0.0 (set by cab; agent sent 0.7)"),
        ({}, {"seed": 7}, "seed=7 (set by cab; agent sent none)"),
        (
            {"temperature": 0.7, "stop": ["\n\nUser:"], "max_completion_tokens": 4096},
            {"temperature": 0.0, "max_completion_tokens": 64, "seed": 1},
            'temperature=0.0 (set by cab; agent sent 0.7) stop=["\\n\\nUser:"] '
            "max_completion_tokens=64 (set by cab; agent sent 4096) seed=1 (set by cab; agent sent none)",
        ),
        ({"temperature": None, "parallel_tool_calls": False}, {},
         "temperature=null parallel_tool_calls=false"),
        ({"tool_choice": "function:edit", "reasoning.effort": "high"}, {},
         "tool_choice=function:edit reasoning.effort=high"),
        ({"logit_bias": "<object of 2 keys>"}, {}, 'logit_bias="<object of 2 keys>"'),
        ({"stop": "a b"}, {}, 'stop="a b"'),  # a space would read as the next pair: quoted
    ],
)  # fmt: skip
def test_one_calls_sampling(sent: dict[str, Any], forced: dict[str, Any], want: str) -> None:
    assert call_sampling(call(sent, forced)) == want


def test_agent_strings_carry_no_control_characters_or_secrets_out() -> None:
    text = call_sampling(call({"stop": ["\x1b]0;owned\x07", "sk-abcdefghijklmnop1234"], "n": 1}))
    assert "\x1b" not in text and "\x07" not in text and "\\u001b]0;owned\\u0007" in text
    assert "sk-abcdefghijklmnop1234" not in text and "***" in text


def test_a_long_set_is_cut() -> None:
    text = pairs({f"k{i}": "x" * 60 for i in range(20)})
    assert len(text) == MAX_LINE and text.endswith("…")


def test_a_cell_lists_the_distinct_sets_its_agent_sent_in_first_seen_order() -> None:
    calls = [call({"temperature": 0.7}), call({"temperature": 0.7}), call({}), call({"temperature": 0.7})]
    assert sampling_rows(calls) == [("sampling sent", "temperature=0.7 (3 calls) · – (1 call)")]


def test_what_cab_set_gets_its_own_row() -> None:
    calls = [call({"temperature": 0.7}, {"temperature": 0.0})] * 2
    assert sampling_rows(calls) == [
        ("sampling sent", "temperature=0.7 (2 calls)"),
        ("sampling set by cab", "temperature=0.0 (2 calls)"),
    ]


def test_many_sets_are_counted_past_the_first_few() -> None:
    calls = [call({"seed": i}) for i in range(MAX_SETS + 3)]
    (row,) = sampling_rows(calls)
    assert row[1].count("(1 call)") == MAX_SETS and row[1].endswith(" · 3 more sets")


@pytest.mark.parametrize(
    ("calls", "want"),
    [([], "no model calls"), ([BASE, BASE], "none recorded")],  # BASE: recorded before sampling was read
)
def test_a_cell_without_sampling_says_so(calls: list[ModelCall], want: str) -> None:
    assert sampling_rows(calls) == [("sampling sent", want)]
