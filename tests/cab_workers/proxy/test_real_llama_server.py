"""The recording proxy in front of a REAL llama-server (the ``cab/model-gemma3-270m`` image, started
by the session's ``model_server`` fixture as ``endpoint: local`` starts it). Generations are kept to a
few tokens (a 2-core machine serves the model)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from cab_core.settings import ProxySettings
from cab_workers.proxy import CellGrant, ModelProxy, Upstream

from .conftest import objects, post

pytestmark = [pytest.mark.slow, pytest.mark.docker]


@pytest.fixture(scope="module")
def url(model_server) -> str:  # noqa: ANN001
    return str(model_server.base_url)


@pytest.fixture(scope="module")
def served(url: str) -> tuple[str, int]:
    """(the server's model id, its context per slot)."""
    model = httpx.get(f"{url}/models", timeout=10).json()["data"][0]["id"]
    props = httpx.get(f"{url.removesuffix('/v1')}/props", timeout=10).json()
    return model, int(props["default_generation_settings"]["n_ctx"])


@pytest.fixture
def grant(url: str, served: tuple[str, int]) -> Iterator[tuple[ModelProxy, CellGrant]]:
    settings = ProxySettings(max_retries=1, backoff_base_s=0.01, upstream_timeout_s=120)
    with ModelProxy(config=settings) as proxy:
        g = proxy.open_cell(f"sweep/tui/real/llama/{uuid.uuid4().hex[:8]}", Upstream(url))
        yield proxy, g


def say(model: str, **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": "Say hello."}], "max_tokens": 6, **extra}


def test_the_real_servers_calls_are_recorded_exactly(
    served: tuple[str, int], grant: tuple[ModelProxy, CellGrant]
) -> None:
    model, _ = served
    proxy, g = grant
    plain = post(g, say(model), timeout=180).json()
    streamed = objects(post(g, say(model, stream=True), timeout=180))
    answer = objects(
        post(
            g,
            {"model": model, "input": "Say hello.", "max_output_tokens": 6, "stream": True},
            "responses",
            timeout=180,
        )
    )
    assert streamed[-1]["choices"] == [] and "usage" in streamed[-1]  # the proxy asked for it
    calls = proxy.close_cell(g.token)
    assert [c.http_status for c in calls] == [200, 200, 200]
    usages = [plain["usage"], streamed[-1]["usage"], answer[-1]["response"]["usage"]]
    for call, usage in zip(calls, usages, strict=True):
        assert call.prompt_tokens == usage.get("prompt_tokens", usage.get("input_tokens"))
        assert call.completion_tokens == usage.get("completion_tokens", usage.get("output_tokens"))
        assert call.source.value == "proxy" and not call.estimated and call.error is None
    assert calls[0].ttft_ms is None and all(c.ttft_ms and c.ttft_ms <= c.latency_ms for c in calls[1:])
    assert calls[1].finish_reason in ("length", "stop") and calls[2].finish_reason == "completed"


def test_the_real_servers_refusals_are_classified_and_usage_still_asked(
    served: tuple[str, int], grant: tuple[ModelProxy, CellGrant]
) -> None:
    model, n_ctx = served
    proxy, g = grant
    minus = post(g, say(model, stream=True, max_tokens=-5), timeout=180)
    huge = say(model, stream=True)
    huge["messages"][0]["content"] = "hello " * (n_ctx + 1000)  # refused before any token is computed
    context = post(g, huge, timeout=180)
    after = objects(post(g, say(model, stream=True), timeout=180))
    assert (minus.status_code, context.status_code) == (400, 400)
    assert after[-1]["choices"] == [] and "usage" in after[-1]  # stream_options still asked for
    calls = proxy.close_cell(g.token)
    kinds = [(c.http_status, (c.error or "").split(" (")[0]) for c in calls]
    # each refused stream is sent once more without the proxy's stream_options, and refused again
    assert kinds == [(400, "bad_request")] * 2 + [(400, "context_exceeded")] * 2 + [(200, "")]
    assert not calls[-1].estimated and g.record.infra_failure is None
