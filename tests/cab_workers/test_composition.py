"""The composition root: the scripted endpoint starts only when a cell asks for it, once per host.

Regression: every host (so every production worker) started the scripted endpoint on enter, whether
or not any sweep used it.
"""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from structlog.testing import capture_logs

from cab_core.schema import CellSpec, ReplayEndpointSpec, SamplingOverride
from cab_core.settings import Settings
from cab_scheduler.catalog import TaskCatalog
from cab_scheduler.sweep import expand, load_sweep
from cab_workers.composition import LocalHost, asks_for_scripted
from cab_workers.proxy import ReplayBook
from tests.cab_workers.proxy.conftest import serve

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[2]


def one_cell(tmp_path: Path, endpoint: str) -> CellSpec:
    sweep = tmp_path / f"{abs(hash(endpoint))}.yaml"
    sweep.write_text(
        "sweep_id: lazy\ntuis: [reference]\nmodels: [scripted/oracle]\n"
        f"tasks: [polyglot/python-semver-sort]\nendpoint: {endpoint}\n"
    )
    (cell,) = expand(load_sweep(sweep), TaskCatalog(REPO / "tasks"), ["reference"])
    return cell


def test_the_scripted_endpoint_starts_on_the_first_cell_that_asks_once_per_host(
    images,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    scripted, remote = one_cell(tmp_path, "scripted"), one_cell(tmp_path, "http://127.0.0.1:9/v1")
    assert asks_for_scripted(scripted) and not asks_for_scripted(remote)
    settings = Settings(home=tmp_path / "home", tasks_dir=REPO / "tasks", images_dir=REPO / "images")
    with LocalHost(settings) as host:
        assert host.ctx is not None
        assert host.scripted_endpoint_url is None, "nothing asked for it yet"
        host.ctx.open_model(remote).close()
        assert host.scripted_endpoint_url is None, "a remote endpoint does not start it"
        sessions, errors = [], []

        def open_one() -> None:
            try:
                sessions.append(host.ctx.open_model(scripted))  # type: ignore[union-attr]  # entered above
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=open_one) for _ in range(8)]
        with capture_logs() as logs:
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=30)
        assert [e["event"] for e in logs].count("scripted_endpoint_started") == 1
        assert errors == [] and len(sessions) == 8
        url = host.scripted_endpoint_url
        assert url is not None and url.startswith("http://127.0.0.1:")
        host.ctx.open_model(scripted).close()
        assert host.scripted_endpoint_url == url, "one endpoint per host"
        for session in sessions:
            session.close()


def test_the_sweeps_sampling_override_reaches_the_proxy_of_every_cell(images, tmp_path: Path) -> None:  # noqa: ANN001
    """``policy.sampling`` is handed to the cell's upstream: the endpoint gets cab's values, the call
    records what the agent sent beside them."""
    cell = one_cell(tmp_path, "scripted")
    override = SamplingOverride(temperature=0, seed=3)
    cell = cell.model_copy(update={"policy": cell.policy.model_copy(update={"sampling": override})})
    settings = Settings(home=tmp_path / "home", tasks_dir=REPO / "tasks", images_dir=REPO / "images")
    with LocalHost(settings) as host:
        assert host.ctx is not None
        session = host.ctx.open_model(cell)
        chat = {
            "model": "scripted/oracle",
            "messages": [{"role": "user", "content": "hi"}],
            "temperature": 0.9,
        }
        headers = {"Authorization": f"Bearer {session.token}"}
        answer = httpx.post(f"{session.base_url}/chat/completions", json=chat, headers=headers, timeout=30)
        (call,) = session.close().calls
    assert answer.status_code == 200
    assert (call.sampling, call.sampling_forced) == ({"temperature": 0.9}, {"temperature": 0.0, "seed": 3})


def test_a_session_carries_the_context_its_server_serves_and_a_replay_the_recorded_one(
    images,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    """What the cell's TUI is told: a remote server's listed context (vLLM's ``max_model_len``), the
    recorded cell's on a replay, nothing from a server that does not say."""
    listing = {
        "data": [{"id": "scripted/oracle", "object": "model", "owned_by": "vllm", "max_model_len": 4096}]
    }

    async def models(request: Request) -> JSONResponse:
        return JSONResponse(listing)

    replay = one_cell(tmp_path, "scripted")
    replay = replay.model_copy(
        update={"policy": replay.policy.model_copy(update={"endpoint": ReplayEndpointSpec()})}
    )
    settings = Settings(home=tmp_path / "home", tasks_dir=REPO / "tasks", images_dir=REPO / "images")
    books = {replay.cell_id: ReplayBook([], context_tokens=2048)}
    with (
        serve(Starlette(routes=[Route("/v1/models", models)])) as url,
        LocalHost(settings, replays=books) as host,
    ):
        assert host.ctx is not None
        told = {}
        for name, cell in (
            ("remote", one_cell(tmp_path, url)),
            ("replay", replay),
            ("scripted", one_cell(tmp_path, "scripted")),
        ):
            session = host.ctx.open_model(cell)
            told[name] = (session.context_tokens, session.build_id)
            session.close()
    assert told["remote"] == (4096, "vllm:scripted/oracle max_model_len=4096")
    assert told["replay"] == (2048, None)
    assert told["scripted"] == (None, None)
