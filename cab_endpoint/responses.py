"""OpenAI Responses API wire format (``POST /v1/responses``) for the scripted endpoint (codex speaks it).

A reply becomes output items: a tool call is a ``function_call`` item (``call_id``, ``name``, JSON
``arguments``), text is an assistant ``message`` item with one ``output_text`` part. Streams send
``response.created``, ``response.in_progress``, per item ``response.output_item.added`` (plus
``response.output_text.delta`` / ``response.function_call_arguments.delta``) and
``response.output_item.done``, then ``response.completed`` with usage (``input_tokens``,
``output_tokens``, ``total_tokens``: codex refuses a usage block without the total).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

from cab_endpoint.behaviours import Reply
from cab_endpoint.chat import canonical_json, count_tokens


def response_id(body: dict[str, Any]) -> str:
    return "resp_" + hashlib.sha256(canonical_json(body).encode()).hexdigest()[:24]


def output_items(reply: Reply) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    if reply.content:
        items.append(
            {
                "type": "message",
                "id": "msg_" + hashlib.sha256(reply.content.encode()).hexdigest()[:20],
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": reply.content, "annotations": []}],
            }
        )
    for call in reply.tool_calls:
        items.append(
            {
                "type": "function_call",
                "id": "fc_" + call.id.removeprefix("call_"),
                "call_id": call.id,
                "name": call.name,
                "arguments": call.arguments,
                "status": "completed",
            }
        )
    return items


def usage(body: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, Any]:
    """Deterministic counts, as for chat completions: a quarter of the canonical JSON, at least 1."""
    prompt, completion = count_tokens(body.get("input")), count_tokens(items)
    return {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": prompt + completion,
    }


def response(
    body: dict[str, Any], model: str, reply: Reply, created: int, status: str = "completed"
) -> dict[str, Any]:
    items = output_items(reply) if status == "completed" else []
    return {
        "id": response_id(body),
        "object": "response",
        "created_at": created,
        "status": status,
        "model": model,
        "output": items,
        "usage": usage(body, items) if status == "completed" else None,
    }


def events(body: dict[str, Any], model: str, reply: Reply, created: int) -> Iterator[dict[str, Any]]:
    """The stream's events, in order; ``sequence_number`` counts them."""
    seq = iter(range(10**6))
    pending = response(body, model, reply, created, status="in_progress")
    yield {"type": "response.created", "sequence_number": next(seq), "response": pending}
    yield {"type": "response.in_progress", "sequence_number": next(seq), "response": pending}
    for index, item in enumerate(output_items(reply)):
        opened = {**item, "status": "in_progress"}
        if item["type"] == "message":
            opened["content"] = []
        else:
            opened["arguments"] = ""
        yield {
            "type": "response.output_item.added",
            "sequence_number": next(seq),
            "output_index": index,
            "item": opened,
        }
        if item["type"] == "message":
            text = item["content"][0]["text"]
            yield {
                "type": "response.output_text.delta",
                "sequence_number": next(seq),
                "item_id": item["id"],
                "output_index": index,
                "content_index": 0,
                "delta": text,
            }
        else:
            yield {
                "type": "response.function_call_arguments.delta",
                "sequence_number": next(seq),
                "item_id": item["id"],
                "output_index": index,
                "delta": item["arguments"],
            }
        yield {
            "type": "response.output_item.done",
            "sequence_number": next(seq),
            "output_index": index,
            "item": item,
        }
    yield {
        "type": "response.completed",
        "sequence_number": next(seq),
        "response": response(body, model, reply, created),
    }


def sse(event: dict[str, Any]) -> bytes:
    """``event: <type>`` then ``data: <json>``, as the Responses API streams them."""
    return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()
