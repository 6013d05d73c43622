"""llama.cpp's ``llama-server`` wire format, as build b11669 was seen to answer (docs/llama-server.md).

What differs from OpenAI's (``chat``, ``responses``), each seen on the real server:

- every chat object carries ``system_fingerprint`` (the build, ``b11669-Debian``) and a ``timings``
  block (``cache_n``/``prompt_n``/``predicted_n`` and milliseconds); usage has
  ``prompt_tokens_details.cached_tokens``; ids are 32 letters and digits (``chatcmpl-...``, tool
  calls without a ``call_`` prefix); keys in the server's order;
- a stream opens with ``{"role": "assistant", "content": null}`` and sends text one token per chunk; a
  tool call comes as a first delta (index, id, type, name and the first token of the arguments), then
  one delta per argument token (index and the piece only); the finish chunk has an empty delta;
- stream usage: without ``stream_options.include_usage`` there is *none*, only ``timings`` on the
  finish chunk; with it, the finish chunk has no timings and a last chunk with empty ``choices``
  carries ``usage`` and ``timings``; no ``"usage": null`` on the other chunks;
- errors are ``{"error": {"code": <the HTTP status, an int>, "message", "type"}}`` with llama's own
  types (``invalid_request_error``, ``authentication_error``, ``not_found_error``,
  ``unavailable_error``, ``server_error``, ``exceed_context_size_error`` plus ``n_prompt_tokens`` and
  ``n_ctx``); a prompt past the context, ``max_tokens`` below -1 and a non-boolean ``include_usage``
  are refused with 400 before anything is generated, streamed or not;
- the Responses API: events without ``sequence_number`` or ``output_index``, ``response.created``
  holding only id/object/status, text in ``content_part``/``output_text`` events one token each,
  arguments one token per ``function_call_arguments.delta``, ``timings`` beside the final response.

Token counts are the scripted endpoint's (``chat.count_tokens``); ``cache_n`` is what a slot's
prefix cache would hold in an agent loop: every message but the last.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import Any

from cab_endpoint.behaviours import Reply, ToolCall
from cab_endpoint.chat import canonical_json, count_tokens

FINGERPRINT = "b11669-Debian"
N_CTX = 32768
"""Context per slot of the real server (``--ctx-size 65536``, 2 slots), in the endpoint's token count."""
TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error"}
TYPES |= {404: "not_found_error", 501: "not_supported_error", 503: "unavailable_error"}
"""llama-server's error type by status; any other status is a ``server_error``."""
_TOKEN = re.compile(r"\s*\w+|\s*[^\w\s]+|\s+")
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def tokens(text: str) -> list[str]:
    """``text`` in token-like pieces (a word or a run of punctuation, with the spaces before it)."""
    return _TOKEN.findall(text) or [""]


def llama_id(seed: str) -> str:
    """32 letters and digits, derived from ``seed`` (the real server draws them at random)."""
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(_ALNUM[b % len(_ALNUM)] for b in digest)


def error_body(status: int, message: str, type_: str | None = None) -> dict[str, Any]:
    """llama-server's error body; ``type_`` only to name a type its status would not (context size)."""
    return {"error": {"code": status, "message": message, "type": type_ or TYPES.get(status, "server_error")}}


def refuse(body: dict[str, Any], prompt: Any) -> tuple[int, dict[str, Any]] | None:
    """What llama-server refuses before generating (status and body), or None. ``prompt``: the
    messages or the Responses ``input``."""
    max_tokens = body.get("max_tokens", body.get("max_completion_tokens"))
    if isinstance(max_tokens, int) and not isinstance(max_tokens, bool) and max_tokens < -1:
        return 400, error_body(
            400, f"Field 'max_tokens': Value must be between -1 <= value <= 2147483647, but got {max_tokens}"
        )
    options = body.get("stream_options")
    if isinstance(options, dict) and "include_usage" in options:
        if not isinstance(options["include_usage"], bool):
            kind = type(options["include_usage"]).__name__.replace("str", "string")
            return 400, error_body(
                400,
                f"Field 'include_usage': [json.exception.type_error.302] type must be boolean, but is {kind}",
            )
    n = count_tokens(prompt)
    if n > N_CTX:
        message = (
            f"request ({n} tokens) exceeds the available context size ({N_CTX} tokens), try increasing it"
        )
        out = error_body(400, message, "exceed_context_size_error")
        out["error"] |= {"n_prompt_tokens": n, "n_ctx": N_CTX}
        return 400, out
    return None


def _counts(prompt: Any, reply: Reply) -> tuple[int, int, int]:
    """(prompt tokens, of which cached, completion tokens)."""
    n = count_tokens(prompt)
    earlier = prompt[:-1] if isinstance(prompt, list) else []
    cached = min(n - 1, count_tokens(earlier)) if earlier else 0
    return n, cached, count_tokens(reply.message())


def usage(prompt: Any, reply: Reply) -> dict[str, Any]:
    n, cached, completion = _counts(prompt, reply)
    return {
        "completion_tokens": completion,
        "prompt_tokens": n,
        "total_tokens": n + completion,
        "prompt_tokens_details": {"cached_tokens": cached},
    }


def timings(prompt: Any, reply: Reply) -> dict[str, Any]:
    """The ``timings`` block: the same counts as ``usage``, at a made-up 5 ms / 25 ms per token."""
    n, cached, completion = _counts(prompt, reply)
    fresh = n - cached
    return {
        "cache_n": cached,
        "prompt_n": fresh,
        "prompt_ms": fresh * 5.0,
        "prompt_per_token_ms": 5.0,
        "prompt_per_second": 200.0,
        "predicted_n": completion,
        "predicted_ms": completion * 25.0,
        "predicted_per_token_ms": 25.0,
        "predicted_per_second": 40.0,
    }


def _call_id(call: ToolCall) -> str:
    return llama_id(call.id)


def completion(body: dict[str, Any], model: str, reply: Reply, created: int) -> dict[str, Any]:
    """A non-streamed ``chat.completion``, in the server's key order."""
    message: dict[str, Any] = {"role": "assistant", "content": reply.content or ""}
    if reply.tool_calls:
        message["tool_calls"] = [
            {"type": "function", "function": {"name": c.name, "arguments": c.arguments}, "id": _call_id(c)}
            for c in reply.tool_calls
        ]
    messages = body.get("messages")
    return {
        "choices": [{"finish_reason": reply.finish_reason, "index": 0, "message": message}],
        "created": created,
        "model": model,
        "system_fingerprint": FINGERPRINT,
        "object": "chat.completion",
        "usage": usage(messages, reply),
        "id": "chatcmpl-" + llama_id(canonical_json(body)),
        "timings": timings(messages, reply),
    }


def _deltas(reply: Reply) -> Iterator[dict[str, Any]]:
    """The deltas between the opening and the finish chunk: text, then each call in pieces."""
    for piece in tokens(reply.content) if reply.content else []:
        yield {"content": piece}
    for index, call in enumerate(reply.tool_calls):
        first, *rest = tokens(call.arguments)
        fn = {"name": call.name, "arguments": first}
        yield {"tool_calls": [{"index": index, "id": _call_id(call), "type": "function", "function": fn}]}
        for piece in rest:
            yield {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}


def chunks(body: dict[str, Any], model: str, reply: Reply, created: int) -> Iterator[dict[str, Any]]:
    """The ``chat.completion.chunk`` objects of a streamed reply, usage as the server sends it."""
    options = body.get("stream_options")
    include_usage = isinstance(options, dict) and options.get("include_usage") is True
    messages = body.get("messages")
    tail = {
        "created": created,
        "id": "chatcmpl-" + llama_id(canonical_json(body)),
        "model": model,
        "system_fingerprint": FINGERPRINT,
        "object": "chat.completion.chunk",
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {"choices": [{"finish_reason": finish, "index": 0, "delta": delta}], **tail}

    yield chunk({"role": "assistant", "content": None})
    yield from (chunk(d) for d in _deltas(reply))
    finish = chunk({}, reply.finish_reason)
    if not include_usage:
        yield {**finish, "timings": timings(messages, reply)}
        return
    yield finish
    yield {"choices": [], **tail, "usage": usage(messages, reply), "timings": timings(messages, reply)}


def _output(reply: Reply, seed: str) -> list[dict[str, Any]]:
    """The Responses API output items of ``reply``, as the server writes them when done."""
    items: list[dict[str, Any]] = []
    if reply.content:
        part = {"type": "output_text", "annotations": [], "logprobs": [], "text": reply.content}
        msg_id = "msg_" + llama_id(seed + reply.content)
        items.append(
            {"type": "message", "status": "completed", "id": msg_id, "content": [part], "role": "assistant"}
        )
    for call in reply.tool_calls:
        fc = llama_id(call.id)
        items.append(
            {
                "id": f"fc_{fc}",
                "type": "function_call",
                "status": "completed",
                "arguments": call.arguments,
                "call_id": f"call_{fc}",
                "name": call.name,
            }
        )
    return items


def responses_usage(prompt: Any, reply: Reply) -> dict[str, Any]:
    n, cached, completion = _counts(prompt, reply)
    return {
        "input_tokens": n,
        "output_tokens": completion,
        "total_tokens": n + completion,
        "input_tokens_details": {"cached_tokens": cached},
    }


def response(body: dict[str, Any], model: str, reply: Reply, created: int) -> dict[str, Any]:
    """A non-streamed Responses API answer (no ``timings`` there, none seen)."""
    seed = canonical_json(body)
    return {
        "completed_at": created,
        "created_at": created,
        "id": "resp_" + llama_id(seed),
        "model": model,
        "object": "response",
        "output": _output(reply, seed),
        "status": "completed",
        "usage": responses_usage(body.get("input"), reply),
    }


def _item_events(item: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """One output item's events, from ``added`` to ``done``."""
    if item["type"] == "message":
        text, item_id = item["content"][0]["text"], item["id"]
        opened = {
            "content": [],
            "id": item_id,
            "role": "assistant",
            "status": "in_progress",
            "type": "message",
        }
        yield {"type": "response.output_item.added", "item": opened}
        part = {"type": "output_text", "text": ""}
        yield {"type": "response.content_part.added", "item_id": item_id, "part": part}
        for piece in tokens(text):
            yield {"type": "response.output_text.delta", "item_id": item_id, "delta": piece}
        yield {"type": "response.output_text.done", "item_id": item_id, "text": text}
        yield {"type": "response.content_part.done", "item_id": item_id, "part": item["content"][0]}
    else:
        keys = ("id", "arguments", "call_id", "name", "type")
        opened = {**{k: item[k] for k in keys}, "arguments": "", "status": "in_progress"}
        yield {"type": "response.output_item.added", "item": opened}
        for piece in tokens(item["arguments"]):
            yield {"type": "response.function_call_arguments.delta", "delta": piece, "item_id": item["id"]}
    yield {"type": "response.output_item.done", "item": item}


def events(body: dict[str, Any], model: str, reply: Reply, created: int) -> Iterator[dict[str, Any]]:
    """The Responses API stream's events, in the server's order and shapes."""
    done = response(body, model, reply, created)
    head = {"id": done["id"], "object": "response", "status": "in_progress"}
    yield {"type": "response.created", "response": head}
    yield {"type": "response.in_progress", "response": head}
    for item in done["output"]:
        yield from _item_events(item)
    final = {k: done[k] for k in ("id", "object", "created_at")}
    final |= {"status": "completed", "model": model, "output": done["output"], "usage": done["usage"]}
    yield {"type": "response.completed", "response": final, "timings": timings(body.get("input"), reply)}
