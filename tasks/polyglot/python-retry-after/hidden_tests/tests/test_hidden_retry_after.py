"""Scoring tests for Retry-After handling; copied into the work dir only when grading."""

from datetime import datetime, timedelta, timezone

from partnerapi import PartnerClient, Response, RetryPolicy, parse_retry_after

NOW = datetime(2024, 5, 14, 12, 0, 0, tzinfo=timezone.utc)
BERLIN = timezone(timedelta(hours=2))
NEW_YORK = timezone(timedelta(hours=-4))


def test_header_name_is_case_insensitive():
    policy = RetryPolicy()
    assert policy.delay_for(1, 429, {"retry-after": "7"}, NOW) == 7
    assert policy.delay_for(1, 503, {"RETRY-AFTER": "12"}, NOW) == 12
    assert policy.delay_for(1, 429, {"retry-after": "500"}, NOW) is None
    assert policy.delay_for(1, 429, {"content-type": "text/plain", "retry-after": "x"}, NOW) == 0.5


def test_date_is_compared_in_utc_whatever_the_clock_zone():
    header = "Tue, 14 May 2024 12:00:42 GMT"
    assert parse_retry_after(header, NOW) == 42
    assert parse_retry_after(header, NOW.astimezone(BERLIN)) == 42
    assert parse_retry_after(header, NOW.astimezone(NEW_YORK)) == 42
    assert parse_retry_after("Tue, 14 May 2024 11:59:00 GMT", NOW.astimezone(NEW_YORK)) == 0


def test_obsolete_date_formats_are_accepted():
    assert parse_retry_after("Tuesday, 14-May-24 12:01:00 GMT", NOW) == 60
    assert parse_retry_after("Tue May 14 12:00:05 2024", NOW) == 5
    assert parse_retry_after("Tue May 14 12:00:05 2024", NOW.astimezone(BERLIN)) == 5


def test_policy_with_a_date_and_a_local_clock():
    policy = RetryPolicy()
    headers = {"retry-after": "Tue, 14 May 2024 12:00:30 GMT"}
    assert policy.delay_for(1, 429, headers, NOW.astimezone(BERLIN)) == 30
    far = {"retry-after": "Tue, 14 May 2024 14:00:00 GMT"}
    assert policy.delay_for(1, 429, far, NOW.astimezone(BERLIN)) is None


class FakeTransport:
    def __init__(self, *responses: Response) -> None:
        self.responses = list(responses)

    def request(self, method: str, path: str) -> Response:
        return self.responses.pop(0)


def test_client_honours_http2_retry_after():
    transport = FakeTransport(
        Response(429, {"retry-after": "9"}),
        Response(503, {"retry-after": "Tue, 14 May 2024 12:00:20 GMT"}),
        Response(200, body="[1]"),
    )
    slept: list[float] = []
    client = PartnerClient(transport, sleep=slept.append, clock=lambda: NOW.astimezone(NEW_YORK))
    assert client.get("/v2/orders") == [1]
    assert slept == [9, 20]
