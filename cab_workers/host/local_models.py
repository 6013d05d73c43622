"""Local model servers (``endpoint: local``): a real inference server per model, started by the host.

``images/model-<name>/`` builds the server with its weights (llama.cpp's ``llama-server`` and a GGUF
by default). The image keeps a small contract, read from its labels:

    cab.model.id              the model id the server answers to
    cab.model.port            the port it serves the OpenAI API on; ``GET /health`` is 200 once loaded
    cab.model.weights_sha256  the weights' sha256 (checked by the image's own build)
    cab.model.gpu             the GPU backend built in (``vulkan``, ``cuda``) or ``none``
    cab.model.ctx_per_slot    context tokens per parallel slot (default 32768)
    cab.model.chat_template_sha256  the chat template the image ships, when not the weights' own
                              (checked by the image's build; gemma3-270m's GGUF carries none)

``LocalModels`` starts one server per model on the host's first cell that needs it, on the
``cab-models`` network (internal: no route out; agents cannot reach it, only the host's proxy), with one
parallel slot per cell slot, and shares it with every later cell. A server stays up while cells use it;
``cab run`` stops it when the sweep ends, a worker after ``idle_stop_s`` without a cell. The model build
id a cell records is the weights' sha256, the shipped chat template's (it decides what the model sees
and whether tools reach it), and the server's own build (``/props`` ``build_info``).
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import structlog

from cab_core.errors import ConfigError, ImageError, InfraError
from cab_workers.host.gpus import GpuInfo
from cab_workers.host.images import ImageBuilder
from cab_workers.host.services import RunningService, Services, ServiceSpec
from cab_workers.proxy.model_build import as_context

log = structlog.get_logger(__name__)

MODELS_NETWORK = "cab-models"
"""The local model servers' network: internal, containers isolated from each other."""

PUBLISHED_NETWORK = "cab-models-published"
"""A server published on a host port (``cab endpoint --model``): Docker publishes no port of an
internal network, so this one is a plain bridge (containers still isolated from each other)."""

IMAGE_PREFIX = "model-"
DEFAULT_CTX_PER_SLOT = 32768
HEALTH_POLL_S = 0.5


def image_name(model: str) -> str:
    """The image folder of local model ``model``: ``images/model-<model>/``."""
    return f"{IMAGE_PREFIX}{model}"


def local_models(images_dir: Path) -> list[str]:
    """The local models ``images_dir`` holds: every ``model-<name>/Dockerfile``, by name."""
    return sorted(
        p.parent.name.removeprefix(IMAGE_PREFIX) for p in images_dir.glob(f"{IMAGE_PREFIX}*/Dockerfile")
    )


def build_id(
    model_id: str, weights_sha256: str | None, server_build: str | None, template_sha256: str | None = None
) -> str:
    """What a cell records as ``model_build_id``: the weights by digest, the shipped chat template by
    its digest's first 12 hex (absent: the weights' own template), and the server by its build."""
    weights = f"sha256:{weights_sha256}" if weights_sha256 else "weights unknown"
    template = f"; template sha256:{template_sha256[:12]}" if template_sha256 else ""
    return f"{model_id} ({weights}{template}; server {server_build or 'unknown'})"


def server_env(slots: int, ctx_per_slot: int) -> dict[str, str]:
    """llama-server's settings by environment: ``slots`` parallel sequences of ``ctx_per_slot`` each."""
    return {"LLAMA_ARG_N_PARALLEL": str(slots), "LLAMA_ARG_CTX_SIZE": str(slots * ctx_per_slot)}


def device_requests(gpu_backend: str | None, gpus: Sequence[GpuInfo]) -> tuple[dict[str, Any], ...]:
    """The GPU device request for a server whose image has ``gpu_backend`` on a host with ``gpus``:
    every GPU, with the graphics capability too for Vulkan; none on a CPU host or a CPU-only image."""
    if not gpus or not gpu_backend or gpu_backend == "none":
        return ()
    caps = ["gpu", "compute", "utility"] + (["graphics"] if gpu_backend == "vulkan" else [])
    return ({"Driver": "nvidia", "DeviceIDs": [g.uuid for g in gpus], "Capabilities": [caps]},)


@dataclass(frozen=True)
class LocalModelServer:
    """A running local model server, as the host's proxy reaches it."""

    model: str
    base_url: str
    """``http://<address>:<port>/v1`` on the models network."""
    build_id: str
    image: str
    container: str
    published_url: str | None = None
    """``http://<address>:<port>/v1`` on the host, when it was published."""
    context_tokens: int | None = None
    """Context of one slot, what one cell's prompt and answer must fit in (what agents are told)."""


@dataclass
class _Entry:
    server: LocalModelServer | None = None
    users: int = 0
    idle_since: float | None = None
    lock: threading.Lock | None = None


class LocalModels:
    """This host's local model servers, started on first use and shared; enter it for the stop on exit."""

    def __init__(
        self,
        builder: ImageBuilder,
        *,
        slots: int = 2,
        gpus: Sequence[GpuInfo] = (),
        progress: Callable[[str], None] = lambda _: None,
        start_timeout_s: float = 600.0,
        idle_stop_s: float | None = None,
        publish: tuple[str, int] | None = None,
    ) -> None:
        """``slots``: parallel sequences per server (the host's cell slots); ``idle_stop_s``: stop a
        server that no cell used for this long (a long-lived worker); None: only on exit. ``publish``:
        also serve it on the host at (address, port) (``cab endpoint --model``); None: only the models
        network."""
        self.builder = builder
        self.services = Services(builder.sandbox)
        self.slots, self.gpus, self.progress = max(1, slots), tuple(gpus), progress
        self.start_timeout_s, self.idle_stop_s, self.publish = start_timeout_s, idle_stop_s, publish
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._reaper: threading.Thread | None = None
        self._serial = itertools.count(1)

    def __enter__(self) -> LocalModels:
        if self.idle_stop_s is not None:
            self._reaper = threading.Thread(target=self._reap_idle, name="cab-model-reaper", daemon=True)
            self._reaper.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closed.set()
        with self._lock:
            entries = list(self._entries.items())
            self._entries.clear()
        for model, entry in entries:
            if entry.server is not None:
                self._stop(model, entry.server)

    def acquire(self, model: str) -> LocalModelServer:
        """The server of ``model``, started (and its image built) when it is not running; every
        ``acquire`` is paired with a :meth:`release`. Raises ConfigError for an unknown model,
        ImageError / InfraError when it cannot be built or does not come up."""
        with self._lock:
            entry = self._entries.setdefault(model, _Entry(lock=threading.Lock()))
            entry.users += 1
            entry.idle_since = None
        assert entry.lock is not None
        try:
            with entry.lock:  # one start per model; other cells of it wait here
                if entry.server is None or self.services.state(entry.server.container) != "running":
                    entry.server = self._start(model)
                return entry.server
        except BaseException:
            self.release(model)
            raise

    def release(self, model: str) -> None:
        with self._lock:
            entry = self._entries.get(model)
            if entry is not None:
                entry.users = max(0, entry.users - 1)
                if entry.users == 0:
                    entry.idle_since = time.monotonic()

    def _start(self, model: str) -> LocalModelServer:
        """Size: build, start, wait for health and read the server's identity, with an error for each."""
        name = image_name(model)
        try:
            self.builder.folder(name)
        except ImageError:
            known = local_models(self.builder.images_dir)
            raise ConfigError(
                f"no local model {model!r}: images/{name}/Dockerfile is missing (local models here: "
                f"{', '.join(known) or 'none'})"
            ) from None
        ref = self.builder.ensure([name], progress=self.progress)[-1]
        label = self.builder.sandbox.image_label
        port = int(label(ref.tag, "cab.model.port") or 8080)
        ctx = int(label(ref.tag, "cab.model.ctx_per_slot") or DEFAULT_CTX_PER_SLOT)
        network = MODELS_NETWORK if self.publish is None else PUBLISHED_NETWORK
        network_id = self.builder.sandbox.ensure_network(network, internal=self.publish is None).id
        container = f"cab-model-{model}-{os.getpid()}-{next(self._serial)}"
        self.progress(f"{name}: starting {ref.tag} ({self.slots} slots)")
        running = self.services.start(
            ServiceSpec(
                name=container,
                image=ref.tag,
                network=network_id or network,
                port=port,
                env=server_env(self.slots, ctx),
                labels={"cab.image": name, "cab.model": model},
                device_requests=device_requests(label(ref.tag, "cab.model.gpu"), self.gpus),
                publish=self.publish,
            )
        )
        base = f"http://{running.address}:{running.port}"
        try:
            props = self._wait_healthy(container, base)
        except BaseException:
            self.services.remove(container)
            raise
        model_id = label(ref.tag, "cab.model.id") or model
        weights = label(ref.tag, "cab.model.weights_sha256")
        template = label(ref.tag, "cab.model.chat_template_sha256")
        server = LocalModelServer(
            model=model,
            base_url=f"{base}/v1",
            build_id=build_id(model_id, weights, _server_build(props), template),
            image=ref.tag,
            container=container,
            published_url=_published_url(self.publish, running.host_port),
            context_tokens=_slot_context(props) or ctx,
        )
        log.info("local_model_started", model=model, url=server.base_url, build_id=server.build_id)
        self.progress(f"{name}: serving at {server.base_url}")
        return server

    def _wait_healthy(self, container: str, base: str) -> dict[str, Any]:
        """Poll ``/health`` until 200; then ``/props`` (llama.cpp; {} from servers without it)."""
        deadline = time.monotonic() + self.start_timeout_s
        with httpx.Client(timeout=5.0) as client:
            while True:
                try:
                    if client.get(f"{base}/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                state = self.services.state(container)
                if state != "running":
                    tail = self.services.logs(container)
                    raise InfraError(f"model server {container} {state or 'vanished'}: {tail[-600:]}")
                if time.monotonic() > deadline:
                    raise InfraError(
                        f"model server {container} not healthy after {self.start_timeout_s:.0f} s"
                    )
                if self._closed.wait(HEALTH_POLL_S):
                    raise InfraError(f"model server {container}: host shutting down")
            try:
                props = client.get(f"{base}/props").json()
            except (httpx.HTTPError, ValueError):
                return {}
        return props if isinstance(props, dict) else {}

    def _stop(self, model: str, server: LocalModelServer) -> None:
        self.services.remove(server.container)
        log.info("local_model_stopped", model=model, container=server.container)

    def _reap_idle(self) -> None:
        assert self.idle_stop_s is not None
        while not self._closed.wait(min(30.0, self.idle_stop_s / 2)):
            now = time.monotonic()
            with self._lock:
                idle = [
                    (m, e)
                    for m, e in self._entries.items()
                    if e.users == 0 and e.idle_since is not None and now - e.idle_since >= self.idle_stop_s
                ]
                for model, _ in idle:
                    del self._entries[model]
            for model, entry in idle:
                if entry.server is not None:
                    self._stop(model, entry.server)


def _published_url(publish: tuple[str, int] | None, port: int | None) -> str | None:
    if publish is None or port is None:
        return None
    address = publish[0] if publish[0] not in ("", "0.0.0.0") else "127.0.0.1"
    return f"http://{address}:{port}/v1"


def _slot_context(props: dict[str, Any]) -> int | None:
    """The context of one slot as llama-server reports it (``/props``), None when it does not."""
    settings = props.get("default_generation_settings")
    n_ctx = settings.get("n_ctx") if isinstance(settings, dict) else None
    return as_context(n_ctx)


def _server_build(props: dict[str, Any]) -> str | None:
    build = props.get("build_info")
    return f"llama.cpp {build}"[:120] if isinstance(build, str) and build else None


__all__ = ["MODELS_NETWORK", "LocalModelServer", "LocalModels", "RunningService", "build_id", "image_name"]
