"""What the real-TUI adapters share: the entry shim, $HOME files, JSON-line output, fallback calls.

Every TUI image runs ``ENTRY`` (``images/base/cab-entry``): it fills the in-memory ``$HOME`` from
the image's seeds and from ``/cab/home/`` (files an adapter returns under ``HOME_PREFIX``), then
execs the TUI in /work. The proxy records every model call; what an adapter parses from the TUI's
own output is the fallback (``TokenSource.tui_stdout``) and the TUI's words for refusal scanning.

A number a TUI printed is only a guess at the truth: a count or duration that is negative, NaN,
Infinity (Python's ``json`` reads both), a bool or too large for a float becomes None (unknown), never
a clamped number and never an error that would lose the cell's report.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from cab_core.schema import ModelCall, TokenSource
from cab_workers.adapters.base import AgentReport, EndpointWiring

ENTRY = "/opt/cab/bin/cab-entry"
HOME_PREFIX = "home/"
"""AgentLaunch.files under this prefix land in the agent's $HOME (``/cab/home/`` -> ``$HOME``)."""
HOME = "/home/agent"
"""The agent user's home in every cab image (an in-memory folder while the cell runs)."""
OUT = "/cab-out"

DEFAULT_CONTEXT = 128_000
"""The context a TUI is told when the server does not say (a hosted API, cab's scripted endpoint)."""
DEFAULT_OUTPUT = 8192


def model_limits(wiring: EndpointWiring) -> tuple[int, int]:
    """(context, output) tokens a TUI is told its model has: the server's context when it says (a
    local server's slot, vLLM's ``max_model_len``), so the TUI compacts before the server refuses its
    prompt; output at most a quarter of it (vLLM refuses a request whose prompt and ``max_tokens``
    together pass ``max_model_len``)."""
    context = wiring.context_tokens or DEFAULT_CONTEXT
    return context, min(DEFAULT_OUTPUT, max(256, context // 4))


class TuiAdapter:
    """Defaults every real TUI's adapter shares (subclasses set ``name`` and ``image_name``): the image's
    root is read-only, ``/tmp`` and ``$HOME`` are in-memory, and the TUI keeps no state in /work."""

    name: str
    image_name: str
    state_globs: tuple[str, ...] = ()
    read_only_root = True
    scratch_dirs: tuple[str, ...] = ("/tmp", HOME)

    def read_back(
        self,
        *,
        usages: Iterable[tuple[int | None, int | None]],
        said: Iterable[str],
        errors: list[str],
        exit_code: int | None,
        stderr: str,
        status: int | None = None,
    ) -> AgentReport:
        """The report most TUIs give: their own token counts, their words, and as ``detail`` the last
        error they printed, else a non-zero exit with stderr's last line; ``status`` the HTTP status
        that error names, when it does. A refusal is a handshake failure only when no call was
        answered before it and no error says the prompt outgrew the model's context."""
        usages = list(usages)
        handshake = refused(status) and not answered(usages) and not any(map(context_overflow, errors))
        detail = ""
        if errors:
            detail = one_line(f"{self.name}: {errors[-1]}")
        elif exit_code not in (0, None):
            detail = one_line(f"{self.name} exited {exit_code}: {last_line(stderr)}")
        return AgentReport(
            model_calls=reported_calls(usages, model=""),
            transcript="\n\n".join(said),
            handshake_failed=handshake,
            detail=detail,
        )


def refused(status: int | None) -> bool:
    """An HTTP status that means the endpoint will never serve this TUI: 4xx but 429 (a handshake failure)."""
    return status is not None and 400 <= status < 500 and status != 429


def answered(usages: Iterable[tuple[int | None, int | None]]) -> bool:
    """Some call the TUI counted got an answer: it and the endpoint do speak (a later 4xx is no handshake
    failure)."""
    return any(prompt or completion for prompt, completion in usages)


_CONTEXT = re.compile(
    r"context[ _]?(length|size|window)|maximum context|too many tokens|prompt is too long", re.IGNORECASE
)


def context_overflow(error: str) -> bool:
    """``error`` says the prompt did not fit the model's context (llama-server: ``request (40509 tokens)
    exceeds the available context size (32768 tokens)``, OpenAI: ``maximum context length``): a 400
    about the conversation's length, never a handshake failure."""
    return bool(_CONTEXT.search(error))


def home(rel: str, content: str) -> tuple[str, str]:
    """An AgentLaunch.files entry for ``$HOME/<rel>``."""
    return HOME_PREFIX + rel.lstrip("/"), content


def json_lines(text: str) -> Iterator[dict[str, Any]]:
    """Every line of ``text`` that is a JSON object; anything else is skipped."""
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            obj = json.loads(line)
        except ValueError:  # JSONDecodeError, or an int of 4300+ digits
            continue
        if isinstance(obj, dict):
            yield obj


def as_int(value: Any) -> int | None:
    """``value`` when it is a count, code or status (an int >= 0 a float can hold), else None (unknown)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value if as_ms(value) is not None else None


def as_ms(value: Any) -> float | None:
    """``value`` as a float when it is a finite number >= 0 (a duration, in ms), else None (unknown)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        ms = float(value)
    except OverflowError:  # an int too large for a float
        return None
    return ms if math.isfinite(ms) and ms >= 0 else None


def mapping(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else ``{}`` (an event may lack the field, or hold another type)."""
    return value if isinstance(value, dict) else {}


def dig(obj: Any, *path: str) -> Any:
    for key in path:
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj


def reported_calls(usages: Iterable[tuple[int | None, int | None]], model: str) -> list[ModelCall]:
    """ModelCalls from (prompt, completion) pairs a TUI printed itself (its own count, not the proxy's);
    a count that is no count (a negative difference of the TUI's totals, say) is unknown."""
    now = datetime.now(UTC)
    return [
        ModelCall(
            seq=i,
            timestamp=now,
            request_hash="",
            model=model,
            prompt_tokens=as_int(prompt),
            completion_tokens=as_int(completion),
            source=TokenSource.tui_stdout,
        )
        for i, (prompt, completion) in enumerate(usages)
    ]


_SUFFIX = {"k": 1_000, "m": 1_000_000}


def human_count(text: str) -> int | None:
    """``788`` -> 788, ``1.2k`` -> 1200, ``12k`` -> 12000 (the way TUIs print token counts)."""
    m = re.fullmatch(r"([\d.,]+)\s*([kKmM]?)", text.strip())
    if not m:
        return None
    try:
        n = float(m.group(1).replace(",", "")) * _SUFFIX.get(m.group(2).lower(), 1)
    except ValueError:
        return None
    return round(n) if math.isfinite(n) else None  # 400 digits read as a float are Infinity


def one_line(text: str, limit: int = 300) -> str:
    return " ".join(text.split())[:limit]


def last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return one_line(lines[-1]) if lines else ""
