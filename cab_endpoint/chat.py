"""OpenAI chat completions wire format: response bodies, stream chunks, usage and error bodies.

Usage is deterministic and never zero: ``prompt_tokens = ceil(len(canonical_json(messages)) / 4)`` and
``completion_tokens = ceil(len(canonical_json(reply_message)) / 4)``, each at least 1.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterator
from typing import Any

from cab_endpoint.behaviours import Reply


def canonical_json(obj: Any) -> str:
    """Sorted keys, no spaces: the form hashed and counted everywhere in cab."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def count_tokens(obj: Any) -> int:
    """The scripted endpoint's token count: a quarter of the canonical JSON length, at least 1."""
    return max(1, math.ceil(len(canonical_json(obj)) / 4))


def usage(messages: Any, reply: Reply) -> dict[str, int]:
    prompt, completion = count_tokens(messages), count_tokens(reply.message())
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def completion_id(body: dict[str, Any]) -> str:
    return "chatcmpl-" + hashlib.sha256(canonical_json(body).encode()).hexdigest()[:24]


def error_body(message: str, type_: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


def completion(body: dict[str, Any], model: str, reply: Reply, created: int) -> dict[str, Any]:
    """A non-streamed ``chat.completion`` object."""
    return {
        "id": completion_id(body),
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "message": reply.message(), "finish_reason": reply.finish_reason}],
        "usage": usage(body.get("messages"), reply),
    }


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _words(text: str) -> list[str]:
    words = re.findall(r"\S+\s*|\s+", text)
    return ["".join(words[i : i + 3]) for i in range(0, len(words), 3)] or [""]


def chunks(body: dict[str, Any], model: str, reply: Reply, created: int) -> Iterator[dict[str, Any]]:
    """The ``chat.completion.chunk`` objects of a streamed reply, usage chunk included when asked."""
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    head = {"id": completion_id(body), "object": "chat.completion.chunk", "created": created, "model": model}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        out = {**head, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return {**out, "usage": None} if include_usage else out

    yield chunk({"role": "assistant", "content": "" if reply.content is not None else None})
    if reply.content:
        for piece in _words(reply.content):
            yield chunk({"content": piece})
    for index, call in enumerate(reply.tool_calls):
        fn = {"name": call.name, "arguments": ""}
        yield chunk({"tool_calls": [{"index": index, "id": call.id, "type": "function", "function": fn}]})
        for piece in _pieces(call.arguments, 64):
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    yield chunk({}, reply.finish_reason)
    if include_usage:
        yield {**head, "choices": [], "usage": usage(body.get("messages"), reply)}


def sse(obj: dict[str, Any] | str) -> bytes:
    """One server-sent event line: ``data: <json>`` (or ``data: [DONE]``) and a blank line."""
    data = obj if isinstance(obj, str) else json.dumps(obj)
    return f"data: {data}\n\n".encode()
