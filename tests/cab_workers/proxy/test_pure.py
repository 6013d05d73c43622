"""Pure parts of the proxy: backoff, Retry-After, usage reading, SSE tally, wire filters, exports."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import aiohttp
import pytest

import cab_workers.proxy as proxy_pkg
from cab_endpoint.behaviours import fault_of
from cab_workers.proxy import wire
from cab_workers.proxy.backoff import backoff_s, retry_after_s, retryable
from cab_workers.proxy.usage import Tally, token_fields

pytestmark = pytest.mark.unit


def test_public_api_is_pinned() -> None:
    assert sorted(proxy_pkg.__all__) == ["CellGrant", "CellRecord", "ModelProxy", "ReplayBook", "Upstream"]


@pytest.mark.parametrize(
    ("failures", "retry_after", "want"),
    [(1, None, 0.5), (2, None, 1.0), (3, None, 2.0), (10, None, 30.0), (1, 7.0, 7.0), (1, 99.0, 30.0)],
)
def test_backoff_is_exponential_capped_and_honours_retry_after(
    failures: int, retry_after: float | None, want: float
) -> None:
    assert backoff_s(failures, base_s=0.5, cap_s=30, retry_after=retry_after, jitter=lambda: 1.0) == want


def test_backoff_jitter_stays_within_half_to_full() -> None:
    assert backoff_s(3, base_s=0.5, cap_s=30, jitter=lambda: 0.0) == 1.0


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert retry_after_s("3", now) == 3.0
    assert retry_after_s(format_datetime(now + timedelta(seconds=20), usegmt=True), now) == 20.0
    assert retry_after_s(format_datetime(now - timedelta(seconds=20), usegmt=True), now) == 0.0
    assert retry_after_s(None) is None and retry_after_s("soon") is None and retry_after_s("") is None


@pytest.mark.parametrize(
    ("status", "want"), [(429, True), (500, True), (503, True), (400, False), (404, False)]
)
def test_retryable_statuses(status: int, want: bool) -> None:
    assert retryable(status) is want


def test_token_fields_read_both_usage_dialects_and_keep_zero() -> None:
    chat = {
        "prompt_tokens": 10,
        "completion_tokens": 4,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 2},
    }
    assert token_fields(chat) == {
        "prompt_tokens": 10,
        "completion_tokens": 4,
        "cached_tokens": 0,
        "reasoning_tokens": 2,
    }
    responses = {"input_tokens": 5, "output_tokens": 6, "input_tokens_details": {"cached_tokens": 1}}
    assert token_fields(responses)["cached_tokens"] == 1 and token_fields(responses)["prompt_tokens"] == 5


def test_tally_reads_sse_split_anywhere() -> None:
    events = [
        {"choices": [{"delta": {"content": "Hello there"}, "finish_reason": None}]},
        {"choices": [{"delta": {}, "finish_reason": "stop"}]},
        {"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 3}},
    ]
    raw = b"".join(f"data: {json.dumps(e)}\r\n\r\n".encode() for e in events) + b"data: [DONE]\n\n"
    for size in (1, 7, len(raw)):
        tally = Tally()
        for i in range(0, len(raw), size):
            tally.feed_sse(raw[i : i + size])
        tally.end_sse()
        assert tally.finish_reason == "stop"
        assert tally.fields({})["prompt_tokens"] == 9 and not tally.fields({})["estimated"]


def test_tally_estimates_without_usage() -> None:
    tally = Tally()
    tally.feed_json({"choices": [{"message": {"content": "x" * 40}, "finish_reason": "stop"}]})
    fields = tally.fields({"messages": [{"role": "user", "content": "y" * 100}]})
    assert fields["estimated"] and fields["completion_tokens"] == 10 and fields["prompt_tokens"] > 25


def test_upstream_body_adds_usage_to_streams_and_maps_models() -> None:
    raw = b'{"model":"a","stream":true}'
    sent, asked = wire.upstream_body(raw, json.loads(raw), "chat/completions", {"a": "b"})
    assert asked and json.loads(sent) == {
        "model": "b",
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    plain = b'{"model":"a"}'
    assert wire.upstream_body(plain, json.loads(plain), "chat/completions", None) == (plain, False)
    assert wire.upstream_body(raw, json.loads(raw), "responses", None)[0] is raw
    refused, asked = wire.upstream_body(raw, json.loads(raw), "chat/completions", None, ask_usage=False)
    assert refused is raw and not asked


def test_upstream_headers_drop_credentials_and_the_cell_token() -> None:
    given = {"Authorization": "Bearer tok", "X-Api-Key": "tok", "X-Other": "has tok inside", "Accept": "*/*"}
    out = wire.upstream_headers(given, "real", "tok")
    assert out == {"Accept": "*/*", "accept-encoding": "identity", "authorization": "Bearer real"}


def test_cabs_own_upstream_headers_replace_any_the_agent_sent() -> None:
    """The task version the scripted endpoint serves is set by cab, never chosen by the agent."""
    given = {"X-Cab-Task-Hash": "f" * 64, "Accept": "*/*"}
    out = wire.upstream_headers(given, None, "tok", (("x-cab-task-hash", "a" * 64),))
    assert out == {"Accept": "*/*", "x-cab-task-hash": "a" * 64, "accept-encoding": "identity"}


def test_client_headers_never_echo_the_key() -> None:
    headers = {"x-debug": "key=real", "content-length": "3", "x-request-id": "r1"}
    assert wire.client_headers(headers, "real") == {"x-request-id": "r1"}
    assert wire.scrub(b"oops real", "real") == b"oops ***"


def _connector_error() -> aiohttp.ClientConnectorError:
    key = aiohttp.client_reqrep.ConnectionKey("h", 1, False, True, None, None, None)
    return aiohttp.ClientConnectorError(key, OSError(111, "refused"))


@pytest.mark.parametrize(
    ("exc", "want"),
    [
        (aiohttp.ServerTimeoutError("t"), ("timeout", "upstream timed out (read)")),
        (aiohttp.ConnectionTimeoutError("t"), ("timeout", "upstream timed out (connect)")),
        (TimeoutError(), ("timeout", "upstream timed out (read)")),
        (_connector_error(), ("transport", "upstream connection failed (connect)")),
        (aiohttp.ServerDisconnectedError(), ("transport", "upstream connection failed (disconnected)")),
        (aiohttp.ClientPayloadError("p"), ("transport", "upstream connection failed (payload)")),
        (aiohttp.ClientOSError(104, "reset"), ("transport", "upstream connection failed (reset)")),
        (ConnectionResetError(), ("transport", "upstream connection failed (reset)")),
        (
            aiohttp.ClientResponseError(None, (), status=0),
            ("transport", "upstream connection failed (ClientResponseError)"),
        ),  # type: ignore[arg-type]
    ],
)
def test_every_transport_error_has_a_kind_and_a_name(exc: BaseException, want: tuple[str, str]) -> None:
    assert isinstance(exc, wire.TRANSPORT_ERRORS)
    assert wire.describe(exc) == want


@pytest.mark.parametrize(
    ("name", "want"),
    [("fault-429", ("429", 1)), ("fault-500-3", ("500", 3)), ("fault-reset", ("reset", 1)), ("oracle", None)],
)
def test_fault_behaviour_names(name: str, want: tuple[str, int] | None) -> None:
    assert fault_of(name) == want
