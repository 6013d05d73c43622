"""Reading what a call cost: request hashes, usage blocks, and a token estimate when usage is missing.

Pure functions plus ``Tally``, which is fed a non-streamed JSON body or the raw bytes of an SSE
stream (in whatever pieces they arrive) and ends with the ModelCall token fields. Both the chat /
completions usage names (``prompt_tokens``...) and the Responses API names (``input_tokens``...) are
read. Without a usage block, llama-server's ``timings`` (on its last chunk, even when usage was not
asked for) give the exact counts: ``cache_n + prompt_n`` prompt tokens (``cache_n`` of them cached),
``predicted_n`` completion tokens. Without either the tokens are estimated: ``tiktoken`` when it is
installed *and* its encoding is already cached on disk (never downloaded), else a quarter of the
character count, ``estimated=True``.

A usage number the endpoint got wrong (negative, NaN, Infinity, a bool, a fraction, or too large for
a float) is recorded as unknown (None): never clamped to a number it did not say, never an error that
would lose the call's record.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

ESTIMATE_ENCODING = "o200k_base"


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def request_hash(raw: bytes, parsed: Any) -> str:
    """sha256 of the canonical JSON of the request body as the agent sent it (raw bytes if not JSON)."""
    data = raw if parsed is None else canonical_json(parsed).encode()
    return hashlib.sha256(data).hexdigest()


@functools.cache
def _encoding() -> Any:
    """A cached tiktoken encoding, or None: never triggers a download."""
    try:
        import tiktoken
    except ImportError:
        return None
    cache = os.environ.get("TIKTOKEN_CACHE_DIR") or os.environ.get("DATA_GYM_CACHE_DIR")
    folder = Path(cache) if cache else Path(tempfile.gettempdir()) / "data-gym-cache"
    if not folder.is_dir() or not any(folder.iterdir()):
        return None
    try:
        return tiktoken.get_encoding(ESTIMATE_ENCODING)
    except Exception:  # noqa: BLE001 - any failure (offline, corrupt cache) means: use chars/4
        return None


def estimate_tokens(text: str) -> int:
    """Tokens in ``text``: tiktoken when available offline, else ceil(chars / 4); 0 for no text."""
    if not text:
        return 0
    enc = _encoding()
    return len(enc.encode(text)) if enc is not None else math.ceil(len(text) / 4)


def prompt_text(body: Any) -> str:
    """What the prompt estimate counts: the canonical JSON of messages / prompt / input."""
    if not isinstance(body, dict):
        return ""
    for key in ("messages", "prompt", "input"):
        if key in body:
            return canonical_json(body[key])
    return ""


def _count(value: Any) -> int | None:
    """``value`` when it is a token count (an int >= 0 that a float can hold), else None (unknown)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    try:
        float(value)  # 10**400 is an int, but no cost or ratio can be computed from it
    except OverflowError:
        return None
    return value


def _int(block: Any, *path: str) -> int | None:
    for key in path:
        block = block.get(key) if isinstance(block, dict) else None
    return _count(block)


def _first(*values: int | None) -> int | None:
    return next((v for v in values if v is not None), None)


def token_fields(usage: dict[str, Any]) -> dict[str, int | None]:
    """ModelCall token fields of one usage block (chat/completions or Responses API names)."""
    return {
        "prompt_tokens": _first(_int(usage, "prompt_tokens"), _int(usage, "input_tokens")),
        "completion_tokens": _first(_int(usage, "completion_tokens"), _int(usage, "output_tokens")),
        "cached_tokens": _first(
            _int(usage, "prompt_tokens_details", "cached_tokens"),
            _int(usage, "input_tokens_details", "cached_tokens"),
        ),
        "reasoning_tokens": _first(
            _int(usage, "completion_tokens_details", "reasoning_tokens"),
            _int(usage, "output_tokens_details", "reasoning_tokens"),
        ),
    }


def timing_fields(timings: Any) -> dict[str, int | None] | None:
    """ModelCall token fields of llama-server's ``timings`` block, or None when it lacks the counts."""
    prompt, cached, completion = (_int(timings, k) for k in ("prompt_n", "cache_n", "predicted_n"))
    if prompt is None or completion is None:
        return None
    return {
        "prompt_tokens": prompt + (cached or 0),
        "completion_tokens": completion,
        "cached_tokens": cached,
        "reasoning_tokens": None,
    }


def _content_text(part: Any) -> str:
    if isinstance(part, str):
        return part
    if isinstance(part, list):
        return "".join(str(p.get("text", "")) for p in part if isinstance(p, dict) and "text" in p)
    return ""


def _said_in(obj: Any) -> str:
    """Assistant text in one response object or stream event (no tool arguments, no reasoning)."""
    if not isinstance(obj, dict):
        return ""
    delta = obj.get("delta")
    if obj.get("type") == "response.output_text.delta" and isinstance(delta, str):
        return delta
    out = []
    for choice in obj.get("choices") or []:
        if isinstance(choice, dict):
            for part in (choice.get("message"), choice.get("delta")):
                if isinstance(part, dict):
                    out.append(_content_text(part.get("content")))
    if obj.get("object") == "response":  # a non-streamed Responses API answer
        for item in obj.get("output") or []:
            if isinstance(item, dict) and item.get("type") == "message":
                out.append(_content_text(item.get("content")))
    return "".join(out)


def said(body: bytes, content_type: str) -> str:
    """What the model said in one recorded answer (JSON or an SSE stream), for refusal scanning."""
    if "event-stream" in content_type:
        text = []
        for event in body.replace(b"\r\n", b"\n").split(b"\n\n"):
            payload = b"\n".join(ln[5:].strip() for ln in event.split(b"\n") if ln.startswith(b"data:"))
            if payload and payload != b"[DONE]":
                try:
                    text.append(_said_in(json.loads(payload)))
                except ValueError:  # JSONDecodeError, UnicodeDecodeError, an int of 4300+ digits
                    continue
        return "".join(text)
    try:
        return _said_in(json.loads(body))
    except ValueError:  # JSONDecodeError, UnicodeDecodeError, an int of 4300+ digits
        return ""


_RESPONSES_END = frozenset({"response.completed", "response.incomplete", "response.failed"})
"""The Responses API's last events of a stream."""


class Tally:
    """Accumulates usage, finish reason and generated text of one response."""

    def __init__(self) -> None:
        self.usage: dict[str, Any] | None = None
        self.timings: dict[str, int | None] | None = None
        """llama-server's counts (``timings``), read when no usage block came."""
        self.error: str | None = None
        """The message of the first ``{"error": ...}`` object fed (in a stream: an error after the 200)."""
        self.finish_reason: str | None = None
        self.model: str | None = None
        self.ended = False
        """The stream's own end arrived (``[DONE]``, a Responses API ``response.completed``, ...): the
        answer is whole, whatever happens to the connection after it."""
        self._generated: list[str] = []
        self._pending = b""

    @classmethod
    def of(cls, body: bytes, stream: bool) -> Tally:
        """The tally of one whole recorded answer: an SSE stream, else a JSON body (not JSON: empty)."""
        tally = cls()
        if stream:
            tally.feed_sse(body)
            tally.end_sse()
        else:
            with contextlib.suppress(ValueError):  # JSONDecodeError, UnicodeDecodeError
                tally.feed_json(json.loads(body))
        return tally

    def feed_json(self, obj: Any) -> None:
        """One response object, or one decoded stream event."""
        if not isinstance(obj, dict):
            return
        inner = obj.get("response") if isinstance(obj.get("response"), dict) else None
        for usage in (obj.get("usage"), inner and inner.get("usage")):
            if isinstance(usage, dict) and usage:
                self.usage = usage
        if isinstance(obj.get("model"), str):
            self.model = obj["model"]
        if obj.get("type") in _RESPONSES_END:
            self.ended = True
        self.timings = timing_fields(obj.get("timings")) or self.timings
        error = obj.get("error")
        if error and self.error is None:
            message = error.get("message") if isinstance(error, dict) else error
            self.error = " ".join(str(message).split())[:300]
        for response in (inner, obj if obj.get("object") == "response" else None):
            if response and isinstance(response.get("status"), str):  # Responses API: completed, ...
                self.finish_reason = response["status"]
        if isinstance(obj.get("delta"), str):  # Responses API text/argument deltas
            self._generated.append(obj["delta"])
        for choice in obj.get("choices") or []:
            if not isinstance(choice, dict):
                continue
            if choice.get("finish_reason"):
                self.finish_reason = str(choice["finish_reason"])
            for part in (choice.get("delta"), choice.get("message")):
                if isinstance(part, dict):
                    self._text_of(part)
            if isinstance(choice.get("text"), str):
                self._generated.append(choice["text"])

    @property
    def generated(self) -> str:
        """What the model generated so far: text, reasoning, refusals, tool-call names and arguments."""
        return "".join(self._generated)

    def _text_of(self, message: dict[str, Any]) -> None:
        for key in ("content", "reasoning_content", "refusal"):
            if isinstance(message.get(key), str):
                self._generated.append(message[key])
        for call in message.get("tool_calls") or []:
            fn = call.get("function") if isinstance(call, dict) else None
            if isinstance(fn, dict):
                self._generated.extend(v for v in (fn.get("name"), fn.get("arguments")) if isinstance(v, str))

    def feed_sse(self, data: bytes) -> None:
        """Raw stream bytes, in any split; complete ``data:`` events are decoded and fed."""
        self._pending = (self._pending + data).replace(b"\r\n", b"\n")
        *events, self._pending = self._pending.split(b"\n\n")
        for event in events:
            self._event(event)

    def end_sse(self) -> None:
        if self._pending.strip():
            self._event(self._pending)
        self._pending = b""

    def _event(self, event: bytes) -> None:
        lines = [ln[5:].strip() for ln in event.split(b"\n") if ln.startswith(b"data:")]
        payload = b"\n".join(lines)
        if payload == b"[DONE]":
            self.ended = True
            return
        if not payload:
            return
        try:
            self.feed_json(json.loads(payload))
        except ValueError:  # JSONDecodeError, UnicodeDecodeError, an int of 4300+ digits
            return

    def fields(self, request_body: Any) -> dict[str, Any]:
        """Token fields and ``estimated`` for the ModelCall of this response."""
        if self.usage is not None:
            return {**token_fields(self.usage), "estimated": False}
        if self.timings is not None:
            return {**self.timings, "estimated": False}
        return {
            "prompt_tokens": estimate_tokens(prompt_text(request_body)),
            "completion_tokens": estimate_tokens(self.generated),
            "estimated": True,
        }
