"""Usage numbers an endpoint got wrong are recorded as unknown, never clamped, never an error."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cab_core.schema import ModelCall
from cab_core.settings import ProxySettings
from cab_workers.proxy import ModelProxy, Upstream
from cab_workers.proxy.usage import Tally, said, token_fields

from .conftest import REAL_KEY, serve

pytestmark = pytest.mark.unit

TOKEN_KEYS = ("prompt_tokens", "completion_tokens", "cached_tokens", "reasoning_tokens")
# JSON text, as an endpoint may send it: Python's json reads NaN, Infinity and 1e400 (inf) too
BAD_NUMBERS = ["-5", "-1.0", "NaN", "Infinity", "-Infinity", "1e400", "1.5", "true", '"12"', "null"]
BAD_NUMBERS.append("1" + "0" * 400)  # an int no float holds: no cost or ratio can be computed from it


def _usage(number: str) -> str:
    """A chat/completions usage block with ``number`` (JSON text) in every count."""
    return (
        f'{{"prompt_tokens": {number}, "completion_tokens": {number},'
        f' "prompt_tokens_details": {{"cached_tokens": {number}}},'
        f' "completion_tokens_details": {{"reasoning_tokens": {number}}}}}'
    )


def _with_usage(obj: dict[str, Any], usage: str) -> str:
    """``obj`` as JSON text with ``usage`` (JSON text, maybe not strict JSON) as its usage block."""
    return json.dumps({**obj, "usage": "@usage"}).replace('"@usage"', usage)


STOP_DELTA = {"choices": [{"delta": {"content": "ok"}, "finish_reason": "stop"}]}
STOP_MESSAGE = {
    "object": "chat.completion",
    "choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}],
}


def _model_call(fields: dict[str, Any]) -> ModelCall:
    return ModelCall(seq=0, timestamp=datetime.now(UTC), request_hash="", **fields)


def _id(number: str) -> str:
    return number if len(number) < 20 else f"{len(number)}-digit-int"


@pytest.mark.parametrize("number", BAD_NUMBERS, ids=_id)
def test_negative_or_nan_usage_from_the_endpoint_is_recorded_as_unknown(number: str) -> None:
    tally = Tally()
    tally.feed_json(json.loads(f'{{"choices": [], "usage": {_usage(number)}}}'))
    fields = tally.fields({"messages": []})
    assert {k: fields[k] for k in TOKEN_KEYS} == dict.fromkeys(TOKEN_KEYS)
    assert fields["estimated"] is False  # the endpoint sent usage: unknown, not a guess
    call = _model_call(fields)  # the schema takes it: the call is recorded, not lost
    assert call.prompt_tokens is None and call.cached_tokens is None


@pytest.mark.parametrize("number", BAD_NUMBERS, ids=_id)
def test_a_bad_number_in_a_streamed_usage_chunk_is_unknown(number: str) -> None:
    tally = Tally()
    chunk = _with_usage(STOP_DELTA, _usage(number))
    for piece in (f"data: {chunk}\n\n".encode(), b"data: [DONE]\n\n"):
        tally.feed_sse(piece)
    tally.end_sse()
    fields = tally.fields({"messages": []})
    assert {k: fields[k] for k in TOKEN_KEYS} == dict.fromkeys(TOKEN_KEYS)
    assert tally.finish_reason == "stop"
    _model_call(fields)


def test_a_bad_number_leaves_the_good_ones_and_the_other_dialect_stands_in() -> None:
    fields = token_fields(
        json.loads('{"prompt_tokens": -1, "input_tokens": 9, "completion_tokens": NaN, "output_tokens": 4}')
    )
    assert fields == {
        "prompt_tokens": 9,
        "completion_tokens": 4,
        "cached_tokens": None,
        "reasoning_tokens": None,
    }
    assert token_fields({"prompt_tokens": 0, "completion_tokens": 10**300})["completion_tokens"] == 10**300


def test_an_integer_too_long_for_python_json_does_not_break_the_stream_tally() -> None:
    """json.loads raises a plain ValueError (not JSONDecodeError) for an int of over 4300 digits."""
    huge = "9" * 5000
    tally = Tally()
    tally.feed_sse(b'data: {"choices": [{"delta": {"content": "hello"}}]}\n\n')
    tally.feed_sse(f'data: {{"choices": [], "usage": {{"prompt_tokens": {huge}}}}}\n\n'.encode())
    tally.end_sse()
    assert tally.usage is None  # the broken event is skipped like any undecodable one
    assert tally.fields({"messages": []})["estimated"] is True
    assert said(f'{{"prompt_tokens": {huge}}}'.encode(), "application/json") == ""
    assert said(f'data: {{"x": {huge}}}\n\n'.encode(), "text/event-stream") == ""


def test_bad_usage_through_the_proxy_is_recorded_as_unknown_and_the_cell_closes() -> None:
    """End to end: ``CellRecord.calls`` validates every row, so one bad count used to lose the cell."""
    bad = _usage("-3").replace('"completion_tokens": -3', '"completion_tokens": NaN')
    answer, chunk = _with_usage(STOP_MESSAGE, bad), _with_usage(STOP_DELTA, bad)

    async def chat(request: Request) -> Response:
        if (await request.json()).get("stream"):
            return Response(f"data: {chunk}\n\ndata: [DONE]\n\n", media_type="text/event-stream")
        return Response(answer, media_type="application/json")

    app = Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])])
    with serve(app) as url, ModelProxy(config=ProxySettings(max_retries=0, upstream_timeout_s=5)) as proxy:
        grant = proxy.open_cell("cell/bad-usage", Upstream(url, REAL_KEY))
        headers = {"Authorization": f"Bearer {grant.token}"}
        for stream in (False, True):
            payload = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": stream}
            resp = httpx.post(
                f"{grant.base_url()}/chat/completions", json=payload, headers=headers, timeout=30
            )
            assert resp.status_code == 200
        calls = proxy.close_cell(grant.token)
    assert [c.http_status for c in calls] == [200, 200]
    for call in calls:
        assert [getattr(call, k) for k in TOKEN_KEYS] == [None] * 4
        assert not call.estimated and call.finish_reason == "stop"
    assert grant.record.infra_failure is None
