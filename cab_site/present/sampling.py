"""The sampling parameters of model calls as short text, the same on `cab show` and the cell page.

    temperature=0.7 top_p=0.95 stop=["\\n\\nUser:"]                 what the agent sent
    temperature=0.0 (set by cab; agent sent 0.7) seed=7 (set by cab; agent sent none)

A value is written as JSON, except a plain word (``auto``, ``high``, ``function:edit``), which is written
bare; so a string the agent sent never carries a control character, quote or markup out of its quotes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from cab_core.schema import ModelCall
from cab_site.present.redact import redact

NONE = "–"
"""A call whose request carried no sampling parameter (or was recorded before cab read them)."""
MAX_LINE = 300
"""Longest text of one call's (or one set's) parameters."""
MAX_SETS = 4
"""Distinct sets listed in a cell's summary; the rest are counted."""

_WORD = re.compile(r"^[A-Za-z0-9_.:/+-]{1,64}$")


def _value(value: Any) -> str:
    if isinstance(value, str) and _WORD.match(value):
        return value
    return json.dumps(value, separators=(",", ":"))


def _cut(text: str) -> str:
    return text if len(text) <= MAX_LINE else text[: MAX_LINE - 1] + "…"


def pairs(params: Mapping[str, Any]) -> str:
    """``key=value`` for each parameter, in record order; ``–`` for none."""
    return _cut(redact(" ".join(f"{k}={_value(v)}" for k, v in params.items()))) or NONE


def call_sampling(call: ModelCall) -> str:
    """One call's sampling: what the agent sent, and where cab set a value, that value and the agent's."""
    sent, forced = call.sampling, call.sampling_forced
    parts = []
    for key in [*sent, *(k for k in forced if k not in sent)]:
        if key not in forced:
            parts.append(f"{key}={_value(sent[key])}")
            continue
        was = _value(sent[key]) if key in sent else "none"
        parts.append(f"{key}={_value(forced[key])} (set by cab; agent sent {was})")
    return _cut(redact(" ".join(parts))) or NONE


def _distinct(sets: Sequence[Mapping[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for params in sets:
        text = pairs(params)
        counts[text] = counts.get(text, 0) + 1
    shown = [f"{text} ({n} call{'' if n == 1 else 's'})" for text, n in list(counts.items())[:MAX_SETS]]
    more = len(counts) - MAX_SETS
    return " · ".join(shown) + (f" · {more} more set{'' if more == 1 else 's'}" if more > 0 else "")


def sampling_rows(calls: Sequence[ModelCall]) -> list[tuple[str, str]]:
    """The cell's summary rows: the distinct sets its agent sent (``sampling sent``), and the sets cab
    set in their place (``sampling set by cab``, only when the sweep had an override)."""
    if not calls:
        return [("sampling sent", "no model calls")]
    if not any(c.sampling for c in calls):
        sent = "none recorded"
    else:
        sent = _distinct([c.sampling for c in calls])
    rows = [("sampling sent", sent)]
    if any(c.sampling_forced for c in calls):
        rows.append(("sampling set by cab", _distinct([c.sampling_forced for c in calls])))
    return rows
