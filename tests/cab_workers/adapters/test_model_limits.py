"""What each TUI is told of its model's context: the server's own (a local server's slot, vLLM's
``max_model_len``) when it says, so the TUI compacts before the server refuses its prompt; the
TUI-facing default when it does not. Before, every TUI was told 128k while a local slot holds 32k."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from cab_workers.adapters import aider, codex, opencode, pi
from cab_workers.adapters.base import EndpointWiring
from cab_workers.adapters.common import DEFAULT_CONTEXT, DEFAULT_OUTPUT

pytestmark = pytest.mark.unit


def wiring(context: int | None) -> EndpointWiring:
    return EndpointWiring(
        base_url="http://172.17.0.1:9/v1", api_key="cab-cell-x", model="m", context_tokens=context
    )


def told(context: int | None) -> dict[str, Any]:
    """(context, output) as each TUI's own config file says them."""
    w = wiring(context)
    oc = opencode.config(w)["provider"]["cab"]["models"]["m"]["limit"]
    (pm,) = pi.models(w)["providers"]["cab"]["models"]
    am = aider.metadata(w)["openai/m"]
    cx = tomllib.loads(codex.config(w))
    return {
        "opencode": (oc["context"], oc["output"]),
        "pi": (pm["contextWindow"], pm["maxTokens"]),
        "aider": (am["max_input_tokens"], am["max_output_tokens"]),
        "aider max_tokens": am["max_tokens"],
        "codex": cx.get("model_context_window"),
    }


def test_a_served_context_is_what_every_tui_is_told() -> None:
    seen = told(32768)
    assert seen["opencode"] == seen["pi"] == seen["aider"] == (32768, DEFAULT_OUTPUT)
    assert seen["codex"] == 32768


def test_a_small_context_leaves_room_for_the_prompt() -> None:
    # vLLM refuses a request whose prompt and max_tokens pass max_model_len: output is a quarter at most
    seen = told(4096)
    assert seen["opencode"] == seen["pi"] == seen["aider"] == (4096, 1024)
    assert seen["aider max_tokens"] == 1024 and seen["codex"] == 4096


def test_an_unknown_context_keeps_each_tuis_default() -> None:
    seen = told(None)
    assert seen["opencode"] == seen["pi"] == seen["aider"] == (DEFAULT_CONTEXT, DEFAULT_OUTPUT)
    assert seen["codex"] is None  # codex sets no window of its own for a model it does not know
