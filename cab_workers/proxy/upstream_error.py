"""What an endpoint's error answer says, in one line for the call's record (``ModelCall.error``).

Endpoints shape their errors differently; the ones read here were seen on the wire:

    OpenAI        {"error": {"message", "type", "param", "code": "context_length_exceeded" | null}}
    llama-server  {"error": {"code": 400, "message", "type": "exceed_context_size_error",
                             "n_prompt_tokens", "n_ctx"}}          (code is the HTTP status, an int)
    vLLM          {"object": "error", "message", "type", "code": 400}
    Ollama & co   {"error": "model not found"}
    FastAPI       {"detail": "..."}; anything else: the body's first line

``describe`` names the error's class first (a fixed word a reader can match on), then the status,
the endpoint's own type or code, and its message, cut to ``MAX_MESSAGE`` characters:

    context_exceeded (400 exceed_context_size_error): request (40024 tokens) exceeds the available ...

Pure: bytes in, a string out; the key scrubbing happens before (``wire.scrub``).
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_MESSAGE = 300

CONTEXT_EXCEEDED = "context_exceeded"
"""The class (and so the start of a recorded ``error``) of a prompt the model's context cannot hold."""

CONTEXT_TYPES = frozenset({"exceed_context_size_error", "context_length_exceeded"})
"""Types or codes that mean the prompt does not fit the model's context (llama-server, OpenAI)."""
_CONTEXT_WORDS = re.compile(r"(context (length|size|window)|maximum context|too many tokens)", re.IGNORECASE)

CLASSES: tuple[tuple[str, str], ...] = (
    (CONTEXT_EXCEEDED, "the prompt does not fit the model's context (the conversation grew too long)"),
    ("auth", "401/403: the endpoint refused the key"),
    ("not_found", "404: no such path or model"),
    ("rate_limited", "429"),
    ("unavailable", "503: loading, overloaded or shutting down"),
    ("bad_request", "any other 4xx: the request itself was refused"),
    ("server_error", "any other 5xx"),
)
"""Every class ``describe`` can name, with when."""


def _fields(body: Any) -> tuple[str, str]:
    """(type or code, message) of a parsed error body; empty strings where it says nothing."""
    if not isinstance(body, dict):
        return "", ""
    inner = body.get("error")
    if isinstance(inner, str):
        return "", inner
    if isinstance(inner, dict):
        body = inner
    elif "detail" in body:
        return "", json.dumps(body["detail"]) if not isinstance(body["detail"], str) else body["detail"]
    kind = body.get("type") or body.get("code") or ""
    if isinstance(body.get("code"), str) and body["code"]:
        kind = body["code"]  # OpenAI's code is the more precise name (context_length_exceeded)
    message = body.get("message")
    return str(kind), str(message) if message is not None else ""


def parse(data: bytes) -> tuple[str, str]:
    """(type or code, message) of an error body in any of the shapes above; the first line of
    anything that is not JSON."""
    try:
        return _fields(json.loads(data))
    except ValueError:  # JSONDecodeError, UnicodeDecodeError, an int of 4300+ digits
        text = data.decode("utf-8", "replace").strip()
        return "", text.splitlines()[0] if text else ""


_REQUEST_FAULT = re.compile(
    r"^Failed to parse (tool call arguments|messages|the request|input)", re.IGNORECASE
)
"""500 messages that are about the request's content, not the server's health: llama-server answers
``500 Failed to parse tool call arguments as JSON`` to a history holding a tool call the model's answer
cut short (``finish_reason: length``); the same request fails the same way every time."""


def error_class(status: int, kind: str, message: str) -> str:
    """The class of one error answer (a name from ``CLASSES``)."""
    if kind in CONTEXT_TYPES or (status in (400, 413) and _CONTEXT_WORDS.search(message)):
        return "context_exceeded"
    if status == 500 and _REQUEST_FAULT.search(message):
        return "bad_request"
    if status in (401, 403):
        return "auth"
    by_status = {404: "not_found", 429: "rate_limited", 503: "unavailable"}
    if status in by_status:
        return by_status[status]
    return "bad_request" if status < 500 else "server_error"


def about_the_request(status: int, data: bytes) -> bool:
    """A 5xx that no retry can fix: the endpoint refused the request's content (``bad_request``)."""
    kind, message = parse(data)
    return status >= 500 and error_class(status, kind, " ".join(message.split())) == "bad_request"


def describe(status: int, data: bytes) -> str:
    """One line for the record of an error answer (``status`` >= 400)."""
    kind, message = parse(data)
    message = " ".join(message.split())
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 3] + "..."
    head = f"{error_class(status, kind, message)} ({status}{' ' + kind if kind else ''})"
    return f"{head}: {message}" if message else head
