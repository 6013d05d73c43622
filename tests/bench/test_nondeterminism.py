"""What ``bench/nondeterminism.py`` compares: a rerun's first prompt (ids and client metadata left out) and
what the model generated in an answer, read from the real server's captured answers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bench.nondeterminism import answer_of, prompt_of
from cab_core.schema import Exchange

pytestmark = pytest.mark.unit

JSON = "application/json"
CAPTURES = Path(__file__).parents[1] / "cab_workers" / "proxy" / "fixtures" / "llama_server"


def exchange(
    request: dict[str, object], capture: str = "chat.json", ctype: str = JSON, body: bytes = b""
) -> Exchange:
    return Exchange(
        seq=0,
        request_hash="0" * 64,
        endpoint_path="/v1/chat/completions",
        http_status=200,
        content_type=ctype,
        request_body=json.dumps(request).encode(),
        response_body=body or (CAPTURES / capture).read_bytes(),
    )


def codex_request(session: str, text: str) -> dict[str, object]:
    """codex's first request: the same prompt carries new ids and session metadata on every run."""
    return {
        "model": "gemma3-270m",
        "instructions": "You are Codex.",
        "input": [{"type": "message", "id": f"msg_{session}", "role": "user", "content": text}],
        "tools": [{"type": "function", "name": "shell"}],
        "prompt_cache_key": session,
        "client_metadata": {"session_id": session},
    }


def test_reruns_that_differ_only_in_ids_ask_the_same_prompt() -> None:
    a, b = exchange(codex_request("s1", "Fix the sort.")), exchange(codex_request("s2", "Fix the sort."))
    assert prompt_of(a) == prompt_of(b)
    assert prompt_of(a) != prompt_of(exchange(codex_request("s1", "Fix the parser.")))


def test_a_changed_tool_list_is_another_prompt() -> None:
    plain = codex_request("s1", "Fix the sort.")
    assert prompt_of(exchange(plain)) != prompt_of(exchange({**plain, "tools": []}))


@pytest.mark.parametrize(
    ("capture", "ctype"),
    [
        ("chat.json", "application/json"),
        ("chat_stream_usage.sse", "text/event-stream"),
        ("responses_stream.sse", "text/event-stream"),
        ("tools_stream_usage.sse", "text/event-stream"),
    ],
)
def test_an_answer_is_what_the_model_generated_whatever_its_wire_format(capture: str, ctype: str) -> None:
    raw = (CAPTURES / capture).read_bytes()
    said = answer_of(exchange({}, capture, ctype))
    assert said  # text or tool-call arguments: each capture carried some
    # another run's answer with the same words: new ids, timestamps and timings
    other = re.sub(rb'"(id|call_id|item_id)":"[^"]*"', rb'"\1":"other"', raw)
    other = re.sub(rb'"(created|created_at|prompt_ms)":[0-9.]+', rb'"\1":1', other)
    assert other != raw
    assert answer_of(exchange({}, capture, ctype, other)) == said
    # and one word of it changed is another answer
    word = re.search(rb"[A-Za-z]{3,}", said.encode())
    assert word is not None
    assert answer_of(exchange({}, capture, ctype, raw.replace(word.group(), b"Zzz"))) != said
