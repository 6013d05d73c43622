"""Sampling parameters of one model request: what the agent asked for (:func:`sent`) and what cab sets
in its place (:func:`forced`, from the sweep's ``sampling`` policy). Pure functions over the parsed body.

The body is the agent's, so it may be hostile: :func:`sent` reads a fixed list of keys and bounds
every value, so the record of a call stays small whatever the agent sent.

    JSON scalar (number, bool, null, string)   kept as sent; a string past ``MAX_TEXT`` chars is cut (…)
    an integer past 64 bits, NaN, Infinity     ``"<integer of N bits>"``, ``"<NaN>"``, ``"<Infinity>"``
    an object or array                         ``"<object of N keys>"``, ``"<array of N>"`` (so
                                               ``logit_bias`` is recorded as the count of its entries)
    stop                                       a string, or the first ``MAX_STOP`` items of its list
                                               (``"<+N more>"`` last when it had more)
    tool_choice                                a string, or ``type:name`` of a named tool
    reasoning.effort                           the Responses API's ``reasoning: {effort: ...}``

A key the agent did not send is absent, never defaulted: the endpoint's defaults are not cab's to guess.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from cab_core.schema import SamplingOverride

MAX_TEXT = 64
"""Longest string kept (characters); longer ones keep their head and end in ``…``."""
MAX_STOP = 8
"""Stop sequences kept of a list (OpenAI takes 4; some servers more)."""
INT_BITS = 64
"""Integers wider than this (a seed is 64 bits at most) are recorded by their size."""
FORCED_PATHS = frozenset({"chat/completions", "completions", "responses"})
"""Paths whose JSON bodies cab sets sampling parameters on."""


def _shape(value: object) -> str:
    if isinstance(value, dict):
        return f"<object of {len(value)} keys>"
    if isinstance(value, list):
        return f"<array of {len(value)}>"
    return f"<{type(value).__name__}>"  # pragma: no cover - json.loads makes nothing else


def _text(value: str) -> str:
    return value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + "…"


def _scalar(value: Any) -> Any:
    """``value`` when it is a small JSON scalar, else a short description of it."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if value.bit_length() <= INT_BITS else f"<integer of {value.bit_length()} bits>"
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "<NaN>" if math.isnan(value) else ("<Infinity>" if value > 0 else "<-Infinity>")
    if isinstance(value, str):
        return _text(value)
    return _shape(value)


def _stop(value: Any) -> Any:
    if not isinstance(value, list):
        return _scalar(value)
    kept = [_scalar(v) for v in value[:MAX_STOP]]
    return kept + [f"<+{len(value) - MAX_STOP} more>"] if len(value) > MAX_STOP else kept


def _tool_choice(value: Any) -> Any:
    """``auto`` / ``none`` / ``required`` as sent; a named tool (chat's ``{type, function: {name}}``,
    the Responses API's ``{type, name}``) as ``type:name``."""
    if not isinstance(value, dict):
        return _scalar(value)
    kind, function = value.get("type"), value.get("function")
    name = value.get("name", function.get("name") if isinstance(function, dict) else None)
    if isinstance(kind, str) and (name is None or isinstance(name, str)):
        return _text(kind if name is None else f"{kind}:{name}")
    return _shape(value)


def _effort(body: Mapping[str, Any]) -> tuple[bool, Any]:
    reasoning = body.get("reasoning")
    if isinstance(reasoning, dict) and "effort" in reasoning:
        return True, _scalar(reasoning["effort"])
    return False, None


def _key(name: str, read: Callable[[Any], Any] = _scalar) -> Callable[[Mapping[str, Any]], tuple[bool, Any]]:
    def get(body: Mapping[str, Any]) -> tuple[bool, Any]:
        return (True, read(body[name])) if name in body else (False, None)

    return get


SCALARS = (
    "temperature",
    "top_p",
    "top_k",
    "min_p",
    "seed",
    "max_tokens",
    "max_completion_tokens",
    "max_output_tokens",  # the Responses API's
    "presence_penalty",
    "frequency_penalty",
    "repetition_penalty",  # vLLM's
    "repeat_penalty",  # llama.cpp's and Ollama's
    "n",
)
"""Keys read as one value each, under their own name."""

READERS: tuple[tuple[str, Callable[[Mapping[str, Any]], tuple[bool, Any]]], ...] = (
    *((k, _key(k)) for k in SCALARS),
    ("stop", _key("stop", _stop)),
    ("reasoning_effort", _key("reasoning_effort")),
    ("reasoning.effort", _effort),
    ("logit_bias", _key("logit_bias")),
    ("parallel_tool_calls", _key("parallel_tool_calls")),
    ("tool_choice", _key("tool_choice", _tool_choice)),
)
"""Recorded name -> how it is read from the body, in the order the record lists them."""


def sent(body: Any) -> dict[str, Any]:
    """The sampling parameters in ``body`` (the agent's parsed request), bounded; {} for a body that
    is not a JSON object."""
    if not isinstance(body, dict):
        return {}
    out = {}
    for name, read in READERS:
        found, value = read(body)
        if found:
            out[name] = value
    return out


def _max_tokens_names(body: Mapping[str, Any], rest: str) -> tuple[str, ...]:
    """Where ``max_tokens`` goes in the agent's dialect: the Responses API's ``max_output_tokens``;
    on chat, whichever of ``max_tokens`` / ``max_completion_tokens`` the agent sent (both if both, so
    neither keeps the agent's value), else ``max_tokens``, the name every OpenAI-compatible server reads."""
    if rest == "responses":
        return ("max_output_tokens",)
    if rest == "chat/completions":
        return tuple(n for n in ("max_tokens", "max_completion_tokens") if n in body) or ("max_tokens",)
    return ("max_tokens",)


def forced(body: Any, override: SamplingOverride | None, rest: str) -> dict[str, Any]:
    """What cab sets in the upstream body of a request to ``/v1/<rest>``, by the name it goes under;
    {} when there is no override, the path takes no sampling, or the body is not a JSON object."""
    if override is None or rest not in FORCED_PATHS or not isinstance(body, dict):
        return {}
    out: dict[str, Any] = {}
    for key, value in override.params().items():
        for name in _max_tokens_names(body, rest) if key == "max_tokens" else (key,):
            out[name] = value
    return out
