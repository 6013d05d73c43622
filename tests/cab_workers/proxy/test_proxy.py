"""The recording proxy over real HTTP, in front of a keyed scripted endpoint."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from structlog.testing import capture_logs

from cab_core.schema import TokenSource
from cab_core.settings import ProxySettings
from cab_endpoint import ScriptedEndpoint
from cab_workers.proxy import CellGrant, ModelProxy, ReplayBook, Upstream

from .conftest import REAL_KEY, RESPONSES_USAGE, EchoUpstream, serve  # noqa: F401

pytestmark = pytest.mark.unit


def body(model: str = "scripted/noop", **extra: Any) -> dict[str, Any]:
    """A chat request unique to the call, so the endpoint's per-body fault counts never collide."""
    return {
        "model": model,
        "messages": [
            {"role": "system", "content": f"You are a coding agent. {uuid.uuid4().hex}"},
            {"role": "user", "content": "Say something."},
        ],
        **extra,
    }


def canon_hash(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def post(
    grant: CellGrant | str, payload: dict[str, Any], url: str | None = None, **kw: Any
) -> httpx.Response:
    token = grant if isinstance(grant, str) else grant.token
    base = url or (grant.base_url() if isinstance(grant, CellGrant) else "")
    headers = {"Authorization": f"Bearer {token}", **kw.pop("headers", {})}
    return httpx.post(f"{base}/chat/completions", json=payload, headers=headers, timeout=30, **kw)


def events(resp: httpx.Response) -> list[dict[str, Any]]:
    lines = [ln[6:] for ln in resp.text.split("\n") if ln.startswith("data: ")]
    assert lines[-1] == "[DONE]"
    return [json.loads(ln) for ln in lines[:-1]]


@pytest.fixture
def grant(proxy: ModelProxy, endpoint: ScriptedEndpoint) -> Any:
    g = proxy.open_cell(f"sweep/tui/model/demo/{uuid.uuid4().hex[:8]}", Upstream(endpoint.url, REAL_KEY))
    yield g
    proxy.close_cell(g.token)


def test_non_streamed_call_is_recorded_with_the_endpoint_usage(proxy: ModelProxy, grant: CellGrant) -> None:
    payload = body()
    resp = post(grant, payload)
    assert resp.status_code == 200
    usage = resp.json()["usage"]
    (call,) = proxy.close_cell(grant.token)
    assert (call.seq, call.upstream_attempt, call.http_status, call.error) == (0, 1, 200, None)
    assert (call.prompt_tokens, call.completion_tokens) == (
        usage["prompt_tokens"],
        usage["completion_tokens"],
    )
    assert call.request_hash == canon_hash(payload)
    assert (call.model, call.endpoint_path, call.stream, call.source) == (
        "scripted/noop",
        "/v1/chat/completions",
        False,
        TokenSource.proxy,
    )
    assert call.finish_reason == "stop" and not call.estimated and call.latency_ms and call.ttft_ms is None
    assert grant.record.infra_failure is None


@pytest.mark.parametrize("include_usage", [None, True])
def test_streamed_call_is_recorded_with_exact_usage(
    proxy: ModelProxy, grant: CellGrant, include_usage: bool | None
) -> None:
    payload = body("scripted/oracle", stream=True)
    if include_usage:
        payload["stream_options"] = {"include_usage": True}
    plain = post(grant, {**payload, "stream": False}).json()["usage"]
    resp = post(grant, payload)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/event-stream")
    chunks = events(resp)
    assert chunks[-1]["usage"] == plain  # asked for or added by the proxy: the usage chunk is passed on
    calls = proxy.close_cell(grant.token)
    assert [c.seq for c in calls] == [0, 1]
    streamed = calls[1]
    assert streamed.stream and streamed.request_hash == canon_hash(payload)
    assert (streamed.prompt_tokens, streamed.completion_tokens) == (
        plain["prompt_tokens"],
        plain["completion_tokens"],
    )
    assert not streamed.estimated and streamed.ttft_ms is not None
    assert 0 < streamed.ttft_ms <= streamed.latency_ms


def test_stream_is_relayed_without_buffering(proxy: ModelProxy, grant: CellGrant) -> None:
    """The first chunk reaches the agent while the (dripping) upstream is still streaming: chunks arrive
    spread over the drip, not all at once at its end (a slow first request on a loaded host only
    shifts them all, so the spread, not the time to the first chunk, is what buffering would erase)."""
    arrivals = []
    with httpx.stream(
        "POST",
        f"{grant.base_url()}/chat/completions",
        json=body("scripted/drip", stream=True),
        headers={"Authorization": f"Bearer {grant.token}"},
        timeout=30,
    ) as resp:
        for chunk in resp.iter_raw():
            if chunk:
                arrivals.append(time.monotonic())
    assert len(arrivals) > 2
    assert arrivals[-1] - arrivals[0] > 0.2
    (call,) = proxy.close_cell(grant.token)
    assert call.ttft_ms is not None and call.latency_ms is not None
    assert call.latency_ms - call.ttft_ms > 200


def test_unknown_and_closed_tokens_are_401(proxy: ModelProxy, grant: CellGrant) -> None:
    with capture_logs() as logs:
        assert post("nope", body(), url=proxy.url).status_code == 401
        assert httpx.get(f"{proxy.url}/models", timeout=10).status_code == 401
        proxy.close_cell(grant.token)
        resp = post(grant, body())
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "invalid_api_key"
    failed = [e for e in logs if e["event"] == "proxy_auth_failed"]
    assert len(failed) == 3 and failed[-1]["cell_id"] == grant.cell_id
    assert grant.token not in repr(logs) and grant.token not in repr(grant)


def test_the_real_key_is_forwarded_and_never_shown(proxy: ModelProxy, endpoint: ScriptedEndpoint) -> None:
    seen: list[str] = []
    with capture_logs() as logs:
        grant = proxy.open_cell("cell/keyed", Upstream(endpoint.url, REAL_KEY))
        for payload in (body(), body(stream=True), body("scripted/fault-500-99"), body("missing/model")):
            resp = post(grant, payload)
            seen.append(resp.text + repr(resp.headers))
        models = httpx.get(f"{grant.base_url()}/models", headers={"Authorization": f"Bearer {grant.token}"})
        seen.append(models.text + repr(models.headers))
        keyless = proxy.open_cell("cell/keyless", Upstream(endpoint.url, None))
        resp = post(keyless, body())  # the endpoint requires the key: without it the proxy cannot serve
        seen.append(resp.text + repr(resp.headers))
        calls = proxy.close_cell(grant.token) + proxy.close_cell(keyless.token)
    assert models.status_code == 200 and resp.status_code == 502
    assert keyless.record.infra_failure and "key" in keyless.record.infra_failure
    assert REAL_KEY not in "".join(seen)
    assert REAL_KEY not in repr(logs) and REAL_KEY not in repr(calls)
    assert REAL_KEY not in repr(Upstream(endpoint.url, REAL_KEY))


def test_the_cell_token_is_never_sent_upstream(proxy: ModelProxy, echo: tuple[EchoUpstream, str]) -> None:
    upstream, url = echo
    grant = proxy.open_cell("cell/echo", Upstream(url, REAL_KEY, {"agent-model": "upstream-model"}))
    resp = httpx.post(
        f"{grant.base_url()}/responses",
        json={"model": "agent-model", "input": "hi"},
        headers={"Authorization": f"Bearer {grant.token}", "x-api-key": grant.token, "x-trace": "keep"},
        timeout=10,
    )
    assert resp.status_code == 200 and resp.json()["model"] == "upstream-model"
    headers = upstream.seen[-1]
    assert headers["authorization"] == f"Bearer {REAL_KEY}" and headers["x-trace"] == "keep"
    assert grant.token not in repr(headers)
    (call,) = proxy.close_cell(grant.token)
    assert (call.endpoint_path, call.model, call.finish_reason) == (
        "/v1/responses",
        "agent-model",
        "completed",
    )
    assert (call.prompt_tokens, call.completion_tokens, call.cached_tokens, call.reasoning_tokens) == (
        RESPONSES_USAGE["input_tokens"],
        RESPONSES_USAGE["output_tokens"],
        3,
        2,
    )


def test_models_passthrough(proxy: ModelProxy, grant: CellGrant, endpoint: ScriptedEndpoint) -> None:
    direct = httpx.get(f"{endpoint.url}/models", headers={"Authorization": f"Bearer {REAL_KEY}"}).json()
    via = httpx.get(f"{grant.base_url()}/models", headers={"Authorization": f"Bearer {grant.token}"})
    assert via.json() == direct
    (call,) = proxy.close_cell(grant.token)
    assert call.endpoint_path == "/v1/models" and call.http_status == 200 and call.prompt_tokens is None


def test_429_with_retry_after_is_retried_and_recorded_twice(proxy: ModelProxy, grant: CellGrant) -> None:
    resp = post(grant, body("scripted/fault-429"))
    assert resp.status_code == 200 and resp.json()["choices"][0]["message"]
    first, second = proxy.close_cell(grant.token)
    assert (first.upstream_attempt, first.http_status, second.upstream_attempt, second.http_status) == (
        1,
        429,
        2,
        200,
    )
    assert first.error and first.request_hash == second.request_hash
    waited = (second.timestamp - first.timestamp).total_seconds()
    assert waited >= 0.95  # Retry-After: 1 honoured (the exponential backoff alone would be 10 ms)
    assert grant.record.infra_failure is None


@pytest.mark.parametrize("fault", ["fault-500", "fault-reset", "fault-reset-2"])
def test_500_and_resets_are_retried(proxy: ModelProxy, grant: CellGrant, fault: str) -> None:
    resp = post(grant, body(f"scripted/{fault}", stream=True))
    assert resp.status_code == 200 and events(resp)[-1]["usage"]
    calls = proxy.close_cell(grant.token)
    assert [c.upstream_attempt for c in calls] == list(range(1, len(calls) + 1))
    assert all(c.error for c in calls[:-1]) and calls[-1].error is None and calls[-1].http_status == 200
    if "reset" in fault:
        assert calls[0].http_status is None and "connection" in (calls[0].error or "")
    assert grant.record.infra_failure is None


def test_exhausted_retry_budget_is_502_and_infra(proxy: ModelProxy, grant: CellGrant) -> None:
    resp = post(grant, body("scripted/fault-500-99"))
    assert resp.status_code == 502
    error = resp.json()["error"]
    assert error["type"] == "upstream_error" and "infra" in error["message"]
    calls = proxy.close_cell(grant.token)
    assert [(c.upstream_attempt, c.http_status) for c in calls] == [(1, 500), (2, 500), (3, 500)]
    assert grant.record.infra_failure and "500" in grant.record.infra_failure


def test_upstream_timeout_is_504_and_infra(endpoint: ScriptedEndpoint) -> None:
    with ModelProxy(
        config=ProxySettings(max_retries=1, backoff_base_s=0.01, upstream_timeout_s=0.5)
    ) as proxy:
        grant = proxy.open_cell("cell/hang", Upstream(endpoint.url, REAL_KEY))
        resp = post(grant, body("scripted/hang"))
        calls = proxy.close_cell(grant.token)
    assert resp.status_code == 504 and resp.json()["error"]["code"] == "upstream_timeout"
    assert [c.error for c in calls] == ["upstream timed out (read)"] * 2
    assert grant.record.infra_failure


def test_missing_usage_is_estimated(proxy: ModelProxy, grant: CellGrant) -> None:
    resp = post(grant, body("scripted/nousage", stream=True))
    assert resp.status_code == 200 and all("usage" not in c for c in events(resp))
    (call,) = proxy.close_cell(grant.token)
    assert call.estimated and call.prompt_tokens and call.completion_tokens


def test_fifty_concurrent_cells_are_recorded_apart(proxy: ModelProxy, endpoint: ScriptedEndpoint) -> None:
    grants = [proxy.open_cell(f"cell/{i}", Upstream(endpoint.url, REAL_KEY)) for i in range(50)]
    payloads = [body(stream=bool(i % 2)) for i in range(50)]
    with ThreadPoolExecutor(50) as pool:
        statuses = list(pool.map(lambda gp: post(*gp).status_code, zip(grants, payloads, strict=True)))
    assert statuses == [200] * 50
    for g, payload in zip(grants, payloads, strict=True):
        (call,) = proxy.close_cell(g.token)
        assert call.request_hash == canon_hash(payload) and call.prompt_tokens


def test_a_recorded_cell_replays_without_its_endpoint(proxy: ModelProxy, endpoint: ScriptedEndpoint) -> None:
    recorded = proxy.open_cell("cell/recorded", Upstream(endpoint.url, REAL_KEY))
    first, second = body("scripted/oracle"), body("scripted/oracle", stream=True)
    answers = [post(recorded, first), post(recorded, second)]
    live = proxy.close_cell(recorded.token)
    book = ReplayBook(recorded.record.exchanges)
    assert [e.seq for e in recorded.record.exchanges] == [0, 1]

    replay = proxy.open_cell("cell/replay", Upstream("http://127.0.0.1:9/v1", None, replay=book))
    again = [post(replay, first), post(replay, second)]
    assert [(a.status_code, a.content) for a in again] == [(a.status_code, a.content) for a in answers]
    other = post(replay, body("scripted/oracle"))  # nothing left to answer with: a miss, infra
    calls = proxy.close_cell(replay.token)
    assert other.status_code == 502 and other.json()["error"]["code"] == "replay_miss"
    assert replay.record.infra_failure and "replay" in replay.record.infra_failure
    assert [c.replay for c in calls] == ["hash", "hash", None]
    tokens = [(c.prompt_tokens, c.completion_tokens, c.stream, c.request_hash) for c in calls[:2]]
    assert tokens == [(c.prompt_tokens, c.completion_tokens, c.stream, c.request_hash) for c in live]


def test_replay_falls_back_to_recorded_order_when_the_request_changed(
    proxy: ModelProxy, endpoint: ScriptedEndpoint
) -> None:
    recorded = proxy.open_cell("cell/recorded-2", Upstream(endpoint.url, REAL_KEY))
    answer = post(recorded, body())
    proxy.close_cell(recorded.token)
    replay = proxy.open_cell(
        "cell/replay-2", Upstream("http://127.0.0.1:9/v1", None, replay=ReplayBook(recorded.record.exchanges))
    )
    again = post(replay, body())  # a fresh system prompt: another hash
    (call,) = proxy.close_cell(replay.token)
    assert again.content == answer.content and call.replay == "order" and replay.record.infra_failure is None


def test_a_stream_refused_with_stream_options_is_sent_again_without_them(proxy: ModelProxy) -> None:
    seen: list[dict[str, Any]] = []

    async def strict(request: Request) -> Response:  # like servers that reject unknown fields
        payload = await request.json()
        seen.append(payload)
        if "stream_options" in payload:
            return JSONResponse({"error": {"message": "stream_options: extra fields not permitted"}}, 400)
        chunk = {"choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": "stop"}]}
        return Response(f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n", media_type="text/event-stream")

    app = Starlette(routes=[Route("/v1/chat/completions", strict, methods=["POST"])])
    with serve(app) as url:
        grant = proxy.open_cell("cell/strict", Upstream(url, REAL_KEY))
        first, second = post(grant, body(stream=True)), post(grant, body(stream=True))
        calls = proxy.close_cell(grant.token)
    assert first.status_code == second.status_code == 200
    assert ["stream_options" in p for p in seen] == [True, False, False]  # asked once, then never again
    assert [c.http_status for c in calls] == [400, 200, 200]
    assert calls[0].error and "stream_options" in calls[0].error
    assert calls[1].estimated and calls[1].completion_tokens  # no usage in the stream: counted, marked
    assert grant.record.infra_failure is None


class CountingUpstream:
    """An upstream that takes 0.2 s per call and remembers how many calls it had at once."""

    def __init__(self) -> None:
        self.now = self.peak = self.total = 0

        async def chat(request: Request) -> Response:
            self.now += 1
            self.total += 1
            self.peak = max(self.peak, self.now)
            try:
                await asyncio.sleep(0.2)
                return JSONResponse({"choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}]})
            finally:
                self.now -= 1

        self.app = Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])])


@pytest.mark.redis
def test_the_endpoint_cap_is_shared_by_every_proxy_on_one_redis(redis_server: Any) -> None:
    """Two hosts' proxies, 12 calls at once, a cap of 2: the endpoint never sees more than 2."""
    upstream = CountingUpstream()
    with (
        serve(upstream.app) as url,
        ModelProxy(redis_url=redis_server.url) as a,
        ModelProxy(redis_url=redis_server.url) as b,
    ):
        grants = [
            p.open_cell(f"cell/cap-{i}", Upstream(url, REAL_KEY, concurrency=2))
            for i, p in enumerate([a, b] * 3)
        ]
        with ThreadPoolExecutor(12) as pool:
            statuses = list(pool.map(lambda g: post(g, body()).status_code, grants * 2))
        calls = [c for g in grants for c in (a if g.port == a.port else b).close_cell(g.token)]
    assert statuses == [200] * 12 and upstream.total == 12
    assert upstream.peak == 2
    waits = sorted(c.queued_ms or 0 for c in calls)
    assert waits[-1] >= 400  # the last ones waited for two rounds of 0.2 s calls
    assert redis_server.client().keys("cab:sem:endpoint:*") == []  # every slot given back


def test_the_endpoint_cap_without_redis_holds_within_one_proxy(proxy: ModelProxy) -> None:
    upstream = CountingUpstream()
    with serve(upstream.app) as url:
        grants = [
            proxy.open_cell(f"cell/local-cap-{i}", Upstream(url, REAL_KEY, concurrency=3)) for i in range(9)
        ]
        with ThreadPoolExecutor(9) as pool:
            statuses = list(pool.map(lambda g: post(g, body()).status_code, grants))
        for g in grants:
            proxy.close_cell(g.token)
    assert statuses == [200] * 9 and upstream.peak == 3
