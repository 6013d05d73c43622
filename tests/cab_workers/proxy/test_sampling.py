"""Sampling parameters of a request (pure): what the agent sent, bounded, and what cab sets instead."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cab_core.schema import SamplingOverride
from cab_workers.proxy import ReplayBook, Upstream, wire
from cab_workers.proxy.sampling import MAX_STOP, MAX_TEXT, forced, sent

pytestmark = pytest.mark.unit

LONG = "x" * 10_000


@pytest.mark.parametrize(
    ("body", "want"),
    [
        ({"model": "m", "messages": []}, {}),  # nothing sent: nothing defaulted
        (None, {}),
        ([{"temperature": 1}], {}),  # not an object
        (
            {"temperature": 0, "top_p": 0.95, "top_k": 40, "min_p": 0.05, "seed": 7, "n": 1},
            {"temperature": 0, "top_p": 0.95, "top_k": 40, "min_p": 0.05, "seed": 7, "n": 1},
        ),
        ({"temperature": None}, {"temperature": None}),  # an explicit null is what was sent
        (
            {"max_tokens": 512, "max_completion_tokens": 256},
            {"max_tokens": 512, "max_completion_tokens": 256},
        ),
        ({"max_output_tokens": 1024}, {"max_output_tokens": 1024}),  # Responses API
        (
            {
                "presence_penalty": 0.5,
                "frequency_penalty": -0.5,
                "repetition_penalty": 1.1,
                "repeat_penalty": 1.2,
            },
            {
                "presence_penalty": 0.5,
                "frequency_penalty": -0.5,
                "repetition_penalty": 1.1,
                "repeat_penalty": 1.2,
            },
        ),
        ({"reasoning_effort": "high"}, {"reasoning_effort": "high"}),
        ({"reasoning": {"effort": "low", "summary": "auto"}}, {"reasoning.effort": "low"}),
        ({"reasoning": {"summary": "auto"}}, {}),
        (
            {"parallel_tool_calls": False, "tool_choice": "auto"},
            {"parallel_tool_calls": False, "tool_choice": "auto"},
        ),
        (
            {"tool_choice": {"type": "function", "function": {"name": "edit"}}},
            {"tool_choice": "function:edit"},
        ),
        (
            {"tool_choice": {"type": "function", "name": "edit"}},
            {"tool_choice": "function:edit"},
        ),  # Responses
        ({"tool_choice": {"type": "file_search"}}, {"tool_choice": "file_search"}),
        ({"tool_choice": {"type": 3}}, {"tool_choice": "<object of 1 keys>"}),
        ({"logit_bias": {"50256": -100, "198": 5}}, {"logit_bias": "<object of 2 keys>"}),  # a count
        ({"stop": "\n\n"}, {"stop": "\n\n"}),
        ({"stop": ["```", "\nUser:"]}, {"stop": ["```", "\nUser:"]}),
        ({"stop": None}, {"stop": None}),
    ],
)
def test_what_the_agent_sent_is_read_verbatim(body: Any, want: dict[str, Any]) -> None:
    assert sent(body) == want


@pytest.mark.parametrize(
    ("body", "want"),
    [
        ({"temperature": {"a": 1}}, {"temperature": "<object of 1 keys>"}),
        ({"top_p": [1, 2, 3]}, {"top_p": "<array of 3>"}),
        ({"seed": 2**64 - 1, "n": -(2**63)}, {"seed": 2**64 - 1, "n": -(2**63)}),  # 64 bits: kept
        ({"seed": 2**64}, {"seed": "<integer of 65 bits>"}),
        ({"seed": int("9" * 4000)}, {"seed": "<integer of 13288 bits>"}),
        ({"temperature": float("nan"), "top_p": float("inf"), "min_p": float("-inf")},
         {"temperature": "<NaN>", "top_p": "<Infinity>", "min_p": "<-Infinity>"}),
        ({"reasoning_effort": LONG}, {"reasoning_effort": "x" * MAX_TEXT + "…"}),
        ({"stop": LONG}, {"stop": "x" * MAX_TEXT + "…"}),
        ({"stop": [LONG] * 1000}, {"stop": ["x" * MAX_TEXT + "…"] * MAX_STOP + ["<+992 more>"]}),
        ({"stop": [["nested"], {"a": 1}]}, {"stop": ["<array of 1>", "<object of 1 keys>"]}),
        ({"tool_choice": {"type": "function", "function": {"name": LONG}}},
         {"tool_choice": ("function:" + LONG)[:MAX_TEXT] + "…"}),
        ({"logit_bias": {str(i): 1 for i in range(100_000)}}, {"logit_bias": "<object of 100000 keys>"}),
    ],
)  # fmt: skip
def test_hostile_values_are_bounded(body: dict[str, Any], want: dict[str, Any]) -> None:
    assert sent(body) == want


def test_a_hostile_body_leaves_a_small_record() -> None:
    huge = {k: LONG for k in ("temperature", "top_p", "reasoning_effort", "tool_choice", "n")}
    huge |= {"stop": [LONG] * 10_000, "logit_bias": {str(i): 1 for i in range(10_000)}, LONG: LONG}
    record = sent(huge)
    assert len(json.dumps(record)) < 2_000 and LONG not in record


def test_the_order_is_fixed_whatever_the_body_order() -> None:
    assert list(sent({"stop": "x", "seed": 1, "temperature": 0})) == ["temperature", "seed", "stop"]


OVERRIDE = SamplingOverride(temperature=0, top_p=0.5, top_k=20, seed=7, max_tokens=64)


@pytest.mark.parametrize(
    ("rest", "body", "want"),
    [
        ("chat/completions", {},
         {"temperature": 0.0, "top_p": 0.5, "top_k": 20, "seed": 7, "max_tokens": 64}),
        ("chat/completions", {"max_completion_tokens": 9},
         {"temperature": 0.0, "top_p": 0.5, "top_k": 20, "seed": 7, "max_completion_tokens": 64}),
        ("chat/completions", {"max_tokens": 1, "max_completion_tokens": 9},
         {"temperature": 0.0, "top_p": 0.5, "top_k": 20, "seed": 7, "max_tokens": 64,
          "max_completion_tokens": 64}),
        ("completions", {"max_completion_tokens": 9},
         {"temperature": 0.0, "top_p": 0.5, "top_k": 20, "seed": 7, "max_tokens": 64}),
        ("responses", {"max_tokens": 9},
         {"temperature": 0.0, "top_p": 0.5, "top_k": 20, "seed": 7, "max_output_tokens": 64}),
        ("models", {}, {}),  # no sampling on that path
        ("chat/completions", None, {}),  # not JSON: forwarded untouched
        ("chat/completions", ["a"], {}),
    ],
)  # fmt: skip
def test_what_cab_sets_goes_under_the_name_of_the_agents_dialect(
    rest: str, body: Any, want: dict[str, Any]
) -> None:
    assert forced(body, OVERRIDE, rest) == want


def test_without_an_override_nothing_is_set() -> None:
    assert forced({"temperature": 1}, None, "chat/completions") == {}
    assert forced({}, SamplingOverride(temperature=1), "chat/completions") == {"temperature": 1.0}


def test_the_upstream_body_carries_the_forced_values_and_keeps_the_rest() -> None:
    agent = {"model": "m", "messages": [], "temperature": 0.7, "stream": False}
    raw = json.dumps(agent).encode()
    body, _ = wire.upstream_body(raw, agent, "chat/completions", None, forced={"temperature": 0.0, "seed": 7})
    assert json.loads(body) == {**agent, "temperature": 0.0, "seed": 7}
    assert agent["temperature"] == 0.7  # the parsed body (what is recorded) is not touched
    unforced, _ = wire.upstream_body(raw, agent, "chat/completions", None, forced={})
    assert unforced is raw


def test_a_forced_value_equal_to_the_agents_still_goes_out_as_cabs() -> None:
    """``True == 1`` in Python: without re-encoding, an agent's ``top_k: true`` would reach the endpoint."""
    agent = {"model": "m", "top_k": True}
    body, _ = wire.upstream_body(json.dumps(agent).encode(), agent, "completions", None, forced={"top_k": 1})
    assert json.loads(body)["top_k"] == 1 and json.loads(body)["top_k"] is not True


def test_an_upstream_is_given_the_override_but_a_replay_is_not() -> None:
    live = Upstream("http://127.0.0.1:9/v1", "k")
    assert live.forcing(None) is live
    assert live.forcing(OVERRIDE).sampling == OVERRIDE and live.sampling is None
    replay = Upstream("replay:", replay=ReplayBook([]))
    assert replay.forcing(OVERRIDE) is replay
