"""The proxy's reading of what a real llama-server sent: usage, finish reasons, errors (captured bytes)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cab_workers.proxy import upstream_error
from cab_workers.proxy.usage import Tally, timing_fields

pytestmark = pytest.mark.unit

CAPTURED = Path(__file__).parent / "fixtures" / "llama_server"
INDEX: dict[str, dict[str, Any]] = json.loads((CAPTURED / "index.json").read_text())


def captured(name: str) -> bytes:
    return (CAPTURED / INDEX[name]["file"]).read_bytes()


def tally_of(name: str, piece: int | None = None) -> Tally:
    """A Tally fed the capture as the proxy would: a stream in ``piece``-byte reads, a body whole."""
    tally, data = Tally(), captured(name)
    if "event-stream" not in INDEX[name]["content_type"]:
        tally.feed_json(json.loads(data))
        return tally
    size = piece or len(data)
    for i in range(0, len(data), size):
        tally.feed_sse(data[i : i + size])
    tally.end_sse()
    return tally


def sse_objects(data: bytes) -> list[dict[str, Any]]:
    lines = [ln[6:] for ln in data.decode().split("\n") if ln.startswith("data: ")]
    return [json.loads(ln) for ln in lines if ln != "[DONE]"]


def assemble(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tool calls as an OpenAI client assembles them from stream deltas (by ``index``)."""
    calls: dict[int, dict[str, Any]] = {}
    for chunk in chunks:
        for choice in chunk["choices"]:
            for delta in choice["delta"].get("tool_calls") or []:
                call = calls.setdefault(delta["index"], {"id": None, "name": "", "arguments": ""})
                call["id"] = delta.get("id") or call["id"]
                fn = delta.get("function") or {}
                call["name"] += fn.get("name") or ""
                call["arguments"] += fn.get("arguments") or ""
    return [calls[i] for i in sorted(calls)]


# name, prompt, completion, cached, finish reason: every number is the server's own (usage or timings)
EXACT = [
    ("chat", 29, 16, 1, "length"),
    ("chat_stream", 29, 16, 24, "length"),  # no usage asked for: timings give the same counts
    ("chat_stream_usage", 29, 16, 24, "length"),
    ("completions", 6, 8, 1, "length"),
    ("completions_stream", 6, 8, 1, "length"),  # usage on the finish chunk, asked for or not
    ("responses", 26, 8, 1, "completed"),
    ("responses_stream", 26, 8, 21, "completed"),
    ("tools", 379, 28, 374, "tool_calls"),
    ("tools_stream_usage", 379, 28, 374, "tool_calls"),
    ("tools_stream_length", 379, 48, 374, "length"),  # no usage asked for
    ("responses_tools_stream", 379, 28, 374, "completed"),
]


@pytest.mark.parametrize(("name", "prompt", "completion", "cached", "finish"), EXACT)
@pytest.mark.parametrize("piece", [None, 7])
def test_every_llama_server_answer_is_counted_exactly(
    name: str, prompt: int, completion: int, cached: int, finish: str, piece: int | None
) -> None:
    tally = tally_of(name, piece)
    fields = tally.fields({"messages": [{"role": "user", "content": "x"}]})
    assert (fields["prompt_tokens"], fields["completion_tokens"], fields["cached_tokens"]) == (
        prompt,
        completion,
        cached,
    )
    assert fields["estimated"] is False and tally.finish_reason == finish and tally.error is None


def test_a_stream_without_usage_carries_timings_on_its_finish_chunk_only() -> None:
    chunks = sse_objects(captured("chat_stream"))
    assert not any("usage" in c for c in chunks)
    assert [("timings" in c) for c in chunks] == [False] * (len(chunks) - 1) + [True]
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"


def test_a_stream_with_usage_ends_with_an_empty_choices_chunk() -> None:
    *body, finish, last = sse_objects(captured("chat_stream_usage"))
    assert last["choices"] == [] and {"usage", "timings"} <= last.keys()
    assert "timings" not in finish and finish["choices"][0]["delta"] == {}
    assert not any("usage" in c for c in body)  # no "usage": null on the others
    assert body[0]["choices"][0]["delta"] == {"role": "assistant", "content": None}
    assert {c["system_fingerprint"] for c in body} == {"b11669-Debian"}


def test_split_tool_calls_assemble_into_whole_calls() -> None:
    chunks = sse_objects(captured("tools_stream_usage"))
    (call,) = assemble(chunks)
    assert (call["name"], json.loads(call["arguments"])) == ("bash", {"command": "diskutil"})
    assert len(call["id"]) == 32 and call["id"].isalnum()  # no call_ prefix
    pieces = [
        c["choices"][0]["delta"]["tool_calls"][0]
        for c in chunks
        if c["choices"] and "tool_calls" in c["choices"][0]["delta"]
    ]
    assert pieces[0]["function"] == {"name": "bash", "arguments": "{"} and "id" in pieces[0]
    assert all(set(p) == {"index", "function"} and set(p["function"]) == {"arguments"} for p in pieces[1:])
    assert len(pieces) == 8  # one argument token per chunk


def test_a_call_cut_by_max_tokens_stays_cut() -> None:
    calls = assemble(sse_objects(captured("tools_stream_length")))
    assert [c["arguments"] for c in calls] == ['{"command": "diskutil"}', '{"command": "diskutil']


def test_timings_with_bad_numbers_are_no_counts() -> None:
    assert timing_fields({"prompt_n": -1, "cache_n": 3, "predicted_n": 4}) is None
    assert timing_fields({"prompt_n": 5, "predicted_n": True}) is None
    assert timing_fields("fast") is None
    assert timing_fields({"prompt_n": 5, "predicted_n": 2}) == {
        "prompt_tokens": 5,
        "completion_tokens": 2,
        "cached_tokens": None,
        "reasoning_tokens": None,
    }


def test_usage_wins_over_timings() -> None:
    tally = Tally()
    tally.feed_json(
        {"usage": {"prompt_tokens": 10, "completion_tokens": 2}, "timings": {"prompt_n": 1, "predicted_n": 1}}
    )
    assert (tally.fields(None)["prompt_tokens"], tally.fields(None)["completion_tokens"]) == (10, 2)


def test_an_error_event_inside_a_stream_is_kept() -> None:
    tally = Tally()
    tally.feed_sse(b'data: {"choices":[{"delta":{"content":"a"},"index":0}]}\n\n')
    tally.feed_sse(b'data: {"error":{"code":500,"message":"slot\\n  crashed","type":"server_error"}}\n\n')
    assert tally.error == "slot crashed"


ERRORS = [
    ("error_context", "context_exceeded (400 exceed_context_size_error): request (40024 tokens) exceeds"),
    ("error_max_tokens", "bad_request (400 invalid_request_error): Field 'max_tokens'"),
    ("error_malformed_json", "bad_request (400 invalid_request_error): [json.exception.parse_error.101]"),
    ("error_no_messages", "bad_request (400 invalid_request_error): 'messages' is required"),
    ("error_messages_not_list", "bad_request (400 invalid_request_error): Expected 'messages'"),
    ("error_include_usage_type", "bad_request (400 invalid_request_error): Field 'include_usage'"),
    ("error_unknown_path", "not_found (404 not_found_error): File Not Found"),
    ("error_auth", "auth (401 authentication_error): Invalid API Key"),
    ("error_loading", "unavailable (503 unavailable_error): Loading model"),
]


@pytest.mark.parametrize(("name", "start"), ERRORS)
def test_every_llama_server_error_is_classified(name: str, start: str) -> None:
    said = upstream_error.describe(INDEX[name]["status"], captured(name))
    assert said.startswith(start)
    assert "\n" not in said and len(said) < 400


OTHER_SHAPES = [
    (
        400,
        {
            "error": {
                "message": "This model's maximum context length is 8192 tokens.",
                "type": "invalid_request_error",
                "param": "messages",
                "code": "context_length_exceeded",
            }
        },
        "context_exceeded (400 context_length_exceeded): This model's maximum context length",
    ),
    (
        429,
        {"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}},
        "rate_limited (429 rate_limit_exceeded)",
    ),
    (
        400,
        {"object": "error", "message": "bad temperature", "type": "BadRequestError", "code": 400},
        "bad_request (400 BadRequestError): bad temperature",
    ),
    (404, {"error": "model 'x' not found"}, "not_found (404): model 'x' not found"),
    (422, {"detail": [{"loc": ["body", "messages"], "msg": "field required"}]}, "bad_request (422): [{"),
    (502, "<html>Bad Gateway</html>\nnginx", "server_error (502): <html>Bad Gateway</html>"),
    (500, "", "server_error (500)"),
]


@pytest.mark.parametrize(("status", "body", "start"), OTHER_SHAPES)
def test_other_servers_error_shapes_are_classified(status: int, body: Any, start: str) -> None:
    data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    assert upstream_error.describe(status, data).startswith(start)


def test_a_long_message_is_cut() -> None:
    said = upstream_error.describe(400, json.dumps({"error": {"message": "x" * 5000}}).encode())
    assert said.endswith("...") and len(said) < upstream_error.MAX_MESSAGE + 40


def test_every_class_is_listed() -> None:
    named = {name for name, _ in upstream_error.CLASSES}
    seen = {upstream_error.error_class(s, "", "") for s in (400, 401, 403, 404, 429, 500, 502, 503)}
    assert seen | {"context_exceeded"} == named
