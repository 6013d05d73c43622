"""Regression: a model call in flight when its cell ended (the agent's deadline killed it mid-call, as
with a slow local llama-server) was lost from the record ("no model calls", tokens not recorded), and
the endpoint went on generating for nobody. Now the call is recorded as cut short, and its upstream
request is cancelled; an agent that hangs up mid-call gets the same."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from cab_core.schema import ModelCall, TokenSource
from cab_core.settings import ProxySettings
from cab_workers.adapters.base import AgentReport
from cab_workers.cell.failures import session_failure
from cab_workers.cell.ports import SessionRecord
from cab_workers.proxy import CellGrant, CellRecord, ModelProxy, Upstream
from cab_workers.proxy.call import CUT_AGENT_GONE, CUT_CELL_ENDED
from cab_workers.proxy.server import CUT_WAIT_S

from .slow_upstream import SlowUpstream, slow_upstream

pytestmark = pytest.mark.unit

WAIT_S = 10.0
LLAMA_SERVER = Path(__file__).parent / "fixtures" / "llama_server"


def wait_until(pred: Callable[[], object], timeout_s: float = WAIT_S) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.01)  # a poll, not a synchronisation
    return bool(pred())


def body(stream: bool) -> dict[str, Any]:
    return {
        "model": "qwen2.5-coder-7b",
        "stream": stream,
        "messages": [
            {"role": "system", "content": f"You are a coding agent. {uuid.uuid4().hex}"},
            {"role": "user", "content": "The parser drops the last field of every line; fix it."},
        ],
    }


@pytest.fixture(scope="module")
def proxy() -> Iterator[ModelProxy]:
    # an upstream timeout far past every wait here: only the cut may end a call
    with ModelProxy(config=ProxySettings(max_retries=0, upstream_timeout_s=120)) as p:
        yield p


@pytest.fixture
def slow() -> Iterator[tuple[SlowUpstream, str]]:
    with slow_upstream() as served:
        yield served


def agent_stream(grant: CellGrant, got_first: threading.Event) -> None:
    """An agent reading a stream until its connection ends."""
    headers = {"Authorization": f"Bearer {grant.token}"}
    with httpx.stream(
        "POST", f"{grant.base_url()}/chat/completions", json=body(True), headers=headers, timeout=60
    ) as resp:
        for _ in resp.iter_raw():
            got_first.set()


def raw_request(grant: CellGrant, payload: dict[str, Any], path: str = "chat/completions") -> socket.socket:
    """An agent's connection with one request sent on it (closing it is the agent dying)."""
    data = json.dumps(payload).encode()
    sock = socket.create_connection(("127.0.0.1", grant.port), timeout=WAIT_S)
    sock.sendall(
        f"POST /v1/{path} HTTP/1.1\r\nHost: proxy\r\nContent-Type: application/json\r\n".encode()
        + f"Authorization: Bearer {grant.token}\r\nContent-Length: {len(data)}\r\n\r\n".encode()
        + data
    )
    return sock


def not_infra(grant: CellGrant, calls: list[ModelCall]) -> None:
    """The record as the pipeline gets it: the cut calls make no infra failure (the agent's end is the
    agent's failure), and every call that reached the proxy is in it."""
    record = grant.record
    seen = SessionRecord(calls, record.exchanges, record.infra_failure, record.started)
    assert record.infra_failure is None
    assert session_failure(seen, AgentReport(model_calls=[], transcript="")) is None
    assert record.started == len(calls)


def test_a_stream_in_flight_when_the_cell_closes_is_recorded_cut_short_and_cancelled(
    proxy: ModelProxy, slow: tuple[SlowUpstream, str]
) -> None:
    upstream, url = slow
    grant = proxy.open_cell(f"cut/stream/{uuid.uuid4().hex[:8]}", Upstream(url))
    got_first = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        agent = pool.submit(agent_stream, grant, got_first)
        assert upstream.sent.wait(WAIT_S) and got_first.wait(WAIT_S)
        t0 = time.monotonic()
        calls = proxy.close_cell(grant.token)
        assert time.monotonic() - t0 < CUT_WAIT_S
        assert agent.exception(WAIT_S) is not None  # the agent's stream ended unfinished
    (call,) = calls
    assert call.error == CUT_CELL_ENDED
    assert call.http_status == 200 and call.stream is True and call.source == TokenSource.proxy
    assert call.ttft_ms is not None and call.latency_ms is not None and call.latency_ms >= call.ttft_ms
    assert call.estimated is True
    assert call.prompt_tokens and call.prompt_tokens > 0
    assert call.completion_tokens and call.completion_tokens > 0  # what the stream carried
    assert upstream.closed.wait(WAIT_S), "the upstream request was not cancelled"
    (exchange,) = grant.record.exchanges  # the bytes the agent got, for replay
    assert b"failing test" in exchange.response_body
    not_infra(grant, calls)


def test_a_call_with_no_byte_yet_when_the_cell_closes_is_recorded_cut_short_and_cancelled(
    proxy: ModelProxy, slow: tuple[SlowUpstream, str]
) -> None:
    upstream, url = slow
    grant = proxy.open_cell(f"cut/wait/{uuid.uuid4().hex[:8]}", Upstream(url))
    with raw_request(grant, body(False)):
        assert upstream.arrived.wait(WAIT_S)
        calls = proxy.close_cell(grant.token)
    (call,) = calls
    assert call.error == CUT_CELL_ENDED
    assert call.http_status is None and call.ttft_ms is None and call.stream is False
    assert call.latency_ms is not None and call.latency_ms > 0
    assert call.estimated is True and call.prompt_tokens and call.prompt_tokens > 0
    assert call.completion_tokens is None  # nothing came: unknown, never 0
    assert upstream.closed.wait(WAIT_S), "the upstream request was not cancelled"
    assert grant.record.exchanges == []  # the agent got no answer to replay
    not_infra(grant, calls)


@pytest.mark.parametrize("stream", [True, False])
def test_an_agent_that_hangs_up_mid_call_has_it_recorded_and_cancelled(
    proxy: ModelProxy, slow: tuple[SlowUpstream, str], stream: bool
) -> None:
    upstream, url = slow
    grant = proxy.open_cell(f"cut/gone/{uuid.uuid4().hex[:8]}", Upstream(url))
    with raw_request(grant, body(stream)) as sock:
        if stream:
            got = b""
            while b"failing test" not in got:  # the first chunk reached the agent
                got += sock.recv(65536)
        else:
            assert upstream.arrived.wait(WAIT_S)
    # the agent died; its cell is still open
    assert upstream.closed.wait(WAIT_S), "the upstream request was not cancelled"
    assert wait_until(lambda: grant.record.calls), "the call was not recorded"
    calls = proxy.close_cell(grant.token)
    (call,) = calls
    assert call.error == CUT_AGENT_GONE
    assert (call.ttft_ms is not None) is stream
    assert call.http_status == (200 if stream else None)
    assert call.estimated is True
    not_infra(grant, calls)


def read_to_the_end(grant: CellGrant, path: str, end: bytes, got_end: threading.Event, hang_up: bool) -> None:
    """An agent reading a stream until its end event; then it hangs up, or reads on (its server never
    closes the stream) until its connection ends."""
    responses = {"model": "gemma3-270m", "stream": True, "input": "Say hi."}
    payload = responses if path == "responses" else body(True)
    headers = {"Authorization": f"Bearer {grant.token}"}
    got = b""
    with (
        httpx.Client(timeout=WAIT_S) as client,
        client.stream("POST", f"{grant.base_url()}/{path}", json=payload, headers=headers) as resp,
    ):
        for chunk in resp.iter_raw():
            got += chunk
            if got.rstrip().endswith(end):
                got_end.set()
                if hang_up:
                    return


@pytest.mark.parametrize("hang_up", [True, False], ids=["agent-hangs-up", "cell-ends"])
@pytest.mark.parametrize(
    ("path", "capture", "tokens"),
    [("responses", "responses_stream.sse", (26, 8)), ("chat/completions", "chat_stream_usage.sse", (29, 16))],
)
def test_a_stream_whose_own_end_came_is_answered_however_its_connection_ends(
    proxy: ModelProxy,
    slow: tuple[SlowUpstream, str],
    path: str,
    capture: str,
    tokens: tuple[int, int],
    hang_up: bool,
) -> None:
    """codex drops its connection on ``response.completed``, and llama-server ends the stream only
    after it; an agent that exits at once ends its cell while the stream is still open. Either way the
    call was answered (the CI run where the hang-up won recorded codex's only call as cut short)."""
    upstream, url = slow
    upstream.first = (LLAMA_SERVER / capture).read_bytes()  # a whole answer; the server never closes it
    grant = proxy.open_cell(f"cut/ended/{uuid.uuid4().hex[:8]}", Upstream(url))
    got_end = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        end = upstream.first.rstrip()[-60:]
        agent = pool.submit(read_to_the_end, grant, path, end, got_end, hang_up)
        assert got_end.wait(WAIT_S), "the agent never got the end event"
        if hang_up:
            assert agent.exception(WAIT_S) is None
            assert wait_until(lambda: grant.record.calls), "the call was not recorded"
        calls = proxy.close_cell(grant.token)
        agent.exception(WAIT_S)  # the agent's read has ended, however
    assert upstream.closed.wait(WAIT_S), "the upstream request was not closed"
    (call,) = calls
    assert call.error is None and call.http_status == 200 and call.ttft_ms is not None
    assert (call.prompt_tokens, call.completion_tokens) == tokens and call.estimated is False
    assert call.source == TokenSource.proxy
    not_infra(grant, calls)


def test_a_call_queued_for_the_endpoint_cap_is_recorded_cut_short_at_no_cost(
    proxy: ModelProxy, slow: tuple[SlowUpstream, str]
) -> None:
    upstream, url = slow
    grant = proxy.open_cell(f"cut/queued/{uuid.uuid4().hex[:8]}", Upstream(url, concurrency=1))
    with raw_request(grant, body(False)), raw_request(grant, body(False)):
        assert upstream.arrived.wait(WAIT_S)
        assert wait_until(lambda: grant.record.started == 2)
        calls = proxy.close_cell(grant.token)
    assert [c.error for c in calls] == [CUT_CELL_ENDED, CUT_CELL_ENDED]
    sent, queued = sorted(calls, key=lambda c: c.prompt_tokens is None)
    assert sent.prompt_tokens and sent.queued_ms is not None
    assert queued.prompt_tokens is None and queued.completion_tokens is None  # never sent
    assert queued.queued_ms is not None and queued.queued_ms > 0
    assert upstream.requests == 1
    not_infra(grant, calls)


def test_a_record_refuses_calls_once_closing_and_waits_for_those_in_flight() -> None:
    record = CellRecord("cell")
    cut = threading.Event()
    key = record.begin(cut.set)
    assert key is not None and record.started == 1
    ender = threading.Thread(target=lambda: cut.wait(WAIT_S) and record.end(key))
    ender.start()
    assert record.close(WAIT_S) == 0  # cut, then waited until the call ended
    ender.join(WAIT_S)
    assert cut.is_set() and record.closing
    assert record.begin(cut.set) is None and record.started == 1  # too late: neither counted nor run


def test_a_close_gives_up_on_a_call_that_never_ends_after_its_bound() -> None:
    record = CellRecord("cell")
    assert record.begin(lambda: None) is not None
    t0 = time.monotonic()
    assert record.close(0.2) == 1
    assert time.monotonic() - t0 < WAIT_S
