from datetime import datetime, timezone

import pytest

from partnerapi import PartnerClient, PartnerError, Response, RetryExhausted, RetryPolicy, parse_retry_after

NOW = datetime(2024, 5, 14, 12, 0, 0, tzinfo=timezone.utc)


def test_backoff_doubles_up_to_the_cap():
    policy = RetryPolicy(max_attempts=10, base_s=0.5, cap_s=5)
    assert [policy.backoff(a) for a in range(1, 7)] == [0.5, 1, 2, 4, 5, 5]


def test_only_some_statuses_are_retried():
    policy = RetryPolicy()
    assert policy.delay_for(1, 503, {}, NOW) == 0.5
    assert policy.delay_for(1, 429, {}, NOW) == 0.5
    assert policy.delay_for(1, 500, {}, NOW) is None
    assert policy.delay_for(1, 404, {}, NOW) is None


def test_attempts_are_limited():
    policy = RetryPolicy(max_attempts=3)
    assert policy.delay_for(2, 503, {}, NOW) == 1
    assert policy.delay_for(3, 503, {}, NOW) is None


def test_retry_after_seconds():
    policy = RetryPolicy()
    assert policy.delay_for(1, 429, {"Retry-After": "7"}, NOW) == 7
    assert policy.delay_for(1, 429, {"Retry-After": "500"}, NOW) is None  # longer than we wait
    assert policy.delay_for(1, 429, {"Retry-After": "soon"}, NOW) == 0.5  # unusable: back off


def test_retry_after_date():
    assert parse_retry_after("Tue, 14 May 2024 12:00:42 GMT", NOW) == 42
    assert parse_retry_after("Tue, 14 May 2024 11:00:00 GMT", NOW) == 0
    assert parse_retry_after("-3", NOW) is None
    assert parse_retry_after("", NOW) is None


class FakeTransport:
    def __init__(self, *responses: Response) -> None:
        self.responses = list(responses)
        self.calls = 0

    def request(self, method: str, path: str) -> Response:
        self.calls += 1
        return self.responses.pop(0)


def test_client_retries_then_succeeds():
    transport = FakeTransport(Response(503), Response(429, {"Retry-After": "3"}), Response(200, body='{"orders": []}'))
    slept: list[float] = []
    client = PartnerClient(transport, sleep=slept.append, clock=lambda: NOW)
    assert client.get("/v2/orders") == {"orders": []}
    assert slept == [0.5, 3]


def test_client_gives_up():
    transport = FakeTransport(Response(503), Response(503), Response(503, body="down"))
    client = PartnerClient(transport, RetryPolicy(max_attempts=3), sleep=lambda s: None, clock=lambda: NOW)
    with pytest.raises(RetryExhausted) as info:
        client.get("/v2/orders")
    assert info.value.attempts == 3 and info.value.status == 503


def test_client_does_not_retry_client_errors():
    client = PartnerClient(FakeTransport(Response(404, body="nope")), sleep=lambda s: None, clock=lambda: NOW)
    with pytest.raises(PartnerError) as info:
        client.get("/v2/orders/1")
    assert not isinstance(info.value, RetryExhausted)
