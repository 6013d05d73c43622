"""``fetch_models`` over real HTTP: the scripted endpoint behind a key, servers that answer in the
shapes of vLLM and llama.cpp, and servers that refuse, hang, drip, flood, redirect or echo the key."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from cab_core.errors import InfraError
from cab_endpoint import ScriptedEndpoint
from cab_workers.proxy import models_listing
from cab_workers.proxy.models_listing import describe, fetch_models
from tests.conftest import free_port

from .conftest import FIXTURE_TASKS, REAL_KEY, serve
from .test_model_build import LLAMACPP, VLLM

pytestmark = pytest.mark.unit


def models_app(answer: Any) -> Starlette:
    """An upstream whose ``GET /v1/models`` answers ``answer(request)``."""

    async def models(request: Request) -> Response:
        return answer(request)

    return Starlette(routes=[Route("/v1/models", models, methods=["GET"])])


@pytest.mark.parametrize(("payload", "model", "build_id"), [
    (VLLM, "sql-lora", "vllm:sql-lora root=/adapters/sql-lora parent=Qwen/Qwen2.5-7B-Instruct"),
    (LLAMACPP, "gemma3-270m", 'llamacpp:gemma3-270m ftype="Q4_K - Medium" n_params=268098176 size=246587904 '
     "n_ctx_train=32768 n_ctx=32768 n_vocab=262144"),
], ids=["vllm_lora", "llamacpp"])  # fmt: skip
def test_a_server_listing_its_models(payload: Any, model: str, build_id: str) -> None:
    with serve(models_app(lambda _: JSONResponse(payload))) as base:
        listing = fetch_models(base + "/", None, timeout_s=5)  # a trailing slash is fine
    assert listing.status == 200 and listing.is_listing
    assert listing.url == base + "/models"
    assert model in listing.ids
    assert listing.build_id(model) == build_id
    assert listing.build_id("not/listed") is None


def test_the_scripted_endpoint_with_and_without_its_key() -> None:
    with ScriptedEndpoint(FIXTURE_TASKS, api_key=REAL_KEY) as ep:
        keyed = fetch_models(ep.url, REAL_KEY, timeout_s=5)
        wrong = fetch_models(ep.url, "sk-wrong", timeout_s=5)
        none = fetch_models(ep.url, None, timeout_s=5)
    assert keyed.status == 200 and "scripted/oracle" in keyed.ids
    assert keyed.build_id("scripted/oracle") == "remote:scripted/oracle owned_by=cab"
    assert (wrong.status, wrong.ids, wrong.build_id("scripted/oracle")) == (401, (), None)
    assert none.status == 401


def test_a_server_echoing_the_key_never_puts_it_in_a_build_id() -> None:
    def echo(request: Request) -> Response:
        said = request.headers.get("authorization", "")
        return JSONResponse({"data": [{"id": "m", "owned_by": "vllm", "root": said, "parent": said[7:]}]})

    with serve(models_app(echo)) as base:
        listing = fetch_models(base, REAL_KEY, timeout_s=5)
    assert listing.build_id("m") == 'vllm:m root="Bearer ***" parent=***'
    assert REAL_KEY not in repr(listing)


BROKEN: dict[str, Any] = {
    "not_json": lambda _: Response(b"<html>hello</html>", media_type="text/html"),
    "deep_nesting": lambda _: Response(b"[" * 100_000, media_type="application/json"),
    "not_utf8": lambda _: Response(b'{"data": ["\xff"]}', media_type="application/json"),
    "huge_int": lambda _: Response(b'{"data": [' + b"9" * 5000 + b"]}", media_type="application/json"),
    "not_a_list": lambda _: JSONResponse({"models": ["m"]}),
    "error_status": lambda _: JSONResponse({"error": {"message": "loading model"}}, status_code=503),
    "redirect": lambda _: RedirectResponse("http://127.0.0.1:9/v1/models", status_code=307),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_answer_is_data_never_an_error(case: str) -> None:
    with serve(models_app(BROKEN[case])) as base:
        listing = fetch_models(base, None, timeout_s=5)
    assert not listing.is_listing and listing.ids == () and listing.build_id("m") is None


def test_a_body_past_the_limit_is_not_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models_listing, "MAX_BODY_BYTES", 4096)
    with serve(models_app(lambda _: JSONResponse({"data": [{"id": "m" * 8192}]}))) as base:
        listing = fetch_models(base, None, timeout_s=5)
    assert listing.status == 200 and listing.payload is None and not listing.is_listing


def test_a_body_that_drips_stops_at_the_timeout() -> None:
    async def drip() -> AsyncIterator[bytes]:
        for _ in range(50):
            yield b" "
            await asyncio.sleep(0.1)

    with serve(models_app(lambda _: StreamingResponse(drip(), media_type="application/json"))) as base:
        started = time.monotonic()
        with pytest.raises(InfraError, match="timed out while reading the answer"):
            fetch_models(base, None, timeout_s=0.5)
    assert time.monotonic() - started < 3


def test_no_answer_names_the_url_and_why_never_the_key() -> None:
    port = free_port()
    with pytest.raises(InfraError) as refused:
        fetch_models(f"http://127.0.0.1:{port}/v1", REAL_KEY, timeout_s=5)
    assert str(refused.value) == f"no answer from http://127.0.0.1:{port}/v1/models: connection refused"
    with pytest.raises(InfraError, match="host name not resolved"):
        fetch_models("http://cab-no-such-host.invalid/v1", REAL_KEY, timeout_s=5)
    with pytest.raises(InfraError) as masked:
        fetch_models(f"http://user:hunter2@127.0.0.1:{port}/v1", REAL_KEY, timeout_s=5)
    assert "hunter2" not in str(masked.value) and "user:***@" in str(masked.value)
    for error in (refused, masked):
        assert REAL_KEY not in str(error.value)


def test_a_server_that_never_answers_times_out() -> None:
    with socket.socket() as listener:  # accepts connections (the kernel's backlog), never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        started = time.monotonic()
        with pytest.raises(InfraError, match="timed out"):
            fetch_models(f"http://127.0.0.1:{listener.getsockname()[1]}/v1", None, timeout_s=0.5)
    assert time.monotonic() - started < 3


@pytest.fixture(scope="module")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def test_tls_trusts_the_given_ca_bundle_only(tls_cert: tuple[Path, Path], tmp_path: Path) -> None:
    cert, key = tls_cert
    with serve(models_app(lambda _: JSONResponse(VLLM)), (cert, key)) as base:
        with pytest.raises(InfraError, match=r"TLS certificate not trusted \(self.signed certificate\)"):
            fetch_models(base, None, timeout_s=5)
        assert fetch_models(base, None, timeout_s=5, ca_bundle=cert).is_listing
    with serve(models_app(lambda _: JSONResponse(VLLM))) as plain:  # https to a plain HTTP server
        with pytest.raises(InfraError, match="TLS failed"):
            fetch_models(plain.replace("http://", "https://"), None, timeout_s=5)


def _httpx_errors() -> list[type[Exception]]:
    found: list[type[Exception]] = [httpx.InvalidURL]
    todo: list[type[Exception]] = [httpx.HTTPError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(c for c in cls.__subclasses__() if c.__module__.startswith("httpx"))
    return found


@pytest.mark.parametrize("cls", _httpx_errors(), ids=lambda c: c.__name__)
def test_every_httpx_error_has_a_name(cls: type[Exception]) -> None:
    """The translation is complete: no httpx exception falls through to its bare class name."""
    exc = cls.__new__(cls)
    assert describe(exc) != cls.__name__
