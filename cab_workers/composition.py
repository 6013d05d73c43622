"""The composition root of a worker host, for both modes: what ``cab run`` and ``cab worker`` enter.

``LocalHost`` is the worker-host setup as a context manager, built from the one settings tree:
Docker engine, images (built when missing; a task's environment image and its TUI layer when a cell
first needs them, once per host), the internal agent network, the recording model
proxy on that network's gateway and the egress lock around it. The scripted endpoint starts only
when a cell asks for it (``asks_for_scripted``), once per host; so do local model servers
(``endpoint: local``, ``host/local_models.py``), once per model, shared while cells use them.
``cab run`` then runs its plan on the host (:mod:`cab_workers.sweep_runner`); ``cab worker`` hands
the host's context to :mod:`cab_workers.distributed`.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack, closing
from dataclasses import dataclass
from pathlib import Path

import structlog

from cab_core.errors import ConfigError
from cab_core.paths import CabHome, TaskPaths
from cab_core.pricing import PriceTable
from cab_core.schema import CellSpec
from cab_core.settings import Settings
from cab_endpoint import ScriptedEndpoint
from cab_endpoint.profiles import DEFAULT_PROFILE, PROFILE_HEADER
from cab_endpoint.task_index import TASK_HASH_HEADER
from cab_scheduler.catalog import TaskCatalog
from cab_workers.cell.pipeline import HostContext, ModelSession, SessionRecord
from cab_workers.cell.ports import CellImages
from cab_workers.host.egress import EgressLock
from cab_workers.host.gpus import GpuInfo
from cab_workers.host.images import ImageBuilder
from cab_workers.host.local_models import LocalModels, LocalModelServer
from cab_workers.host.sandbox import AgentNetwork, Sandbox
from cab_workers.host.task_cache import StoreFetch, TaskCache
from cab_workers.proxy import ModelProxy, ReplayBook, Upstream
from cab_workers.proxy.models_listing import BuildIds, ServedModel

log = structlog.get_logger(__name__)

AGENT_NETWORK = "cab-agents"
"""Internal Docker network: no internet; only the host's gateway address (the model proxy) is reachable."""


def host_image_builder(settings: Settings, sandbox: Sandbox, **extra: Path) -> ImageBuilder:
    """The image builder a host makes from its settings: CA bundle, registry (``CAB_IMAGE_REGISTRY``)
    and the build locks under ``CAB_HOME``; ``extra``: ``tasks_dir`` / ``wheelhouse`` for the worker image."""
    return ImageBuilder(
        sandbox,
        settings.images_dir,
        prefix=settings.image_prefix,
        ca_bundle=settings.ca_bundle,
        registry=settings.images.registry,
        lock_dir=settings.cab_home.root / "locks",
        **extra,
    )


def asks_for_scripted(cell: CellSpec) -> bool:
    """True when the cell's model calls go to cab's scripted endpoint (the one place that decides)."""
    return cell.policy.endpoint.kind == "scripted"


class LocalHost:
    """Everything a host needs to run cells; enter it once per sweep (``cab run``) or per worker
    process (``cab worker``). Every configured value comes from ``settings``."""

    def __init__(
        self,
        settings: Settings,
        *,
        progress: Callable[[str], None] = lambda _: None,
        keep_workdirs: bool = False,
        shared_caps: bool = False,
        replays: Mapping[str, ReplayBook] | None = None,
        model_slots: int = 2,
        model_idle_stop_s: float | None = None,
        gpus: Sequence[GpuInfo] = (),
    ) -> None:
        """``shared_caps``: share endpoint concurrency caps with every host on the broker's Redis
        (distributed mode). ``replays``: cell id -> the recorded answers its ``endpoint: replay``
        calls get (``cab replay``). ``model_slots``: parallel sequences of a local model server (the
        cells this host runs at once); ``model_idle_stop_s``: stop a local model server no cell used
        for this long (a worker; None: at exit); ``gpus``: the host's GPUs, handed to it."""
        self.settings = settings
        self.shared_caps = shared_caps
        self.replays = dict(replays or {})
        self.progress = progress
        self.keep_workdirs = keep_workdirs
        self._stack = ExitStack()
        self._scripted_lock = threading.Lock()
        self._scripted: _Scripted | None = None
        self._models_lock = threading.Lock()
        self._build_ids = BuildIds(ca_bundle=settings.ca_bundle)
        self._models: LocalModels | None = None
        self._model_options = (max(1, model_slots), model_idle_stop_s, tuple(gpus))
        self._builder: ImageBuilder | None = None
        self._refs: dict[str, str] = {}
        self._tasks_root: Path | None = None
        self.ctx: HostContext | None = None
        self.sandbox: Sandbox | None = None
        self.network: AgentNetwork | None = None
        """The agents' network (set on enter)."""
        self.proxy: ModelProxy | None = None
        """This host's recording proxy (set on enter)."""

    def __enter__(self) -> LocalHost:
        try:
            return self._enter()
        except BaseException:
            self._stack.close()
            raise

    def _enter(self) -> LocalHost:
        home = self.settings.cab_home.ensure()
        self.sandbox = sandbox = Sandbox()
        self._builder = host_image_builder(self.settings, sandbox)
        self._refs = {ref.name: ref.tag for ref in self._builder.ensure(progress=self.progress)}
        self.network = network = sandbox.ensure_network(AGENT_NETWORK, internal=True)
        self.proxy = self._start_proxy(network)
        self.ctx = HostContext(
            home=home,
            sandbox=sandbox,
            task_root=self._task_cache(home).paths,
            images=self._cell_images,
            open_model=self._open_model,
            network=AGENT_NETWORK,
            host=socket.gethostname(),
            keep_workdirs=self.keep_workdirs,
            prices=PriceTable.load(self.settings.price_table),
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    @property
    def scripted_endpoint_url(self) -> str | None:
        """Where the scripted endpoint listens, once a cell asked for it (None before)."""
        return self._scripted.endpoint.url if self._scripted else None

    def _start_proxy(self, network: AgentNetwork) -> ModelProxy:
        """The recording proxy on the agents' gateway, and the egress lock that leaves agents no other way
        out."""
        config = self.settings.proxy
        proxy = self._stack.enter_context(
            ModelProxy(
                host=network.gateway,
                port=0,
                config=config,
                redis_url=self.settings.broker.url if self.shared_caps else None,
            )
        )
        if self.settings.sandbox.egress_lock:
            self._stack.enter_context(EgressLock(network.bridge, network.gateway, proxy.port))
        else:
            log.warning(
                "egress_lock_off", network=network.name, hint="agents can reach every port of this host"
            )
        return proxy

    def _task_cache(self, home: CabHome) -> TaskCache:
        """Task versions by content hash on this host, fetched from the result store when missing."""
        fetch = self._stack.enter_context(closing(StoreFetch(self.settings.resolved_store_url)))
        cache = TaskCache.under(home, TaskCatalog(self.settings.tasks_dir), fetch)
        self._tasks_root = cache.root
        return cache

    def _scripted_endpoint(self) -> _Scripted:
        """The scripted endpoint, started on the first cell that asks for it: once per host, whichever
        cell thread gets here first. It listens on loopback behind a key, like a real endpoint: only
        the proxy (on the agents' gateway, their one reachable address) holds the key and can reach it."""
        with self._scripted_lock:
            if self._scripted is None:
                key = f"cab-scripted-{secrets.token_urlsafe(24)}"
                endpoint = ScriptedEndpoint(
                    self.settings.tasks_dir,
                    host="127.0.0.1",
                    port=0,
                    api_key=key,
                    versions_root=self._tasks_root,
                )
                self._scripted = _Scripted(self._stack.enter_context(endpoint), key)
                log.info("scripted_endpoint_started", url=endpoint.url)
            return self._scripted

    def _upstream_for(self, cell: CellSpec, server: LocalModelServer | None = None) -> Upstream:
        """Where ``cell``'s calls go; ``server``: its local model server, acquired by the caller."""
        spec = cell.policy.endpoint
        if server is not None:
            cap = spec.concurrency if spec.kind == "local" else None
            return Upstream(base_url=server.base_url, concurrency=cap)
        if asks_for_scripted(cell):
            scripted = self._scripted_endpoint()
            cap = spec.concurrency if spec.kind == "scripted" else None
            version = ((TASK_HASH_HEADER, cell.task_hash),)  # the exact task version this cell runs
            profile = spec.profile if spec.kind == "scripted" else DEFAULT_PROFILE  # how it answers
            return Upstream(
                base_url=scripted.endpoint.url,
                api_key=scripted.key,
                concurrency=cap,
                headers=(*version, (PROFILE_HEADER, profile)),
            )
        if spec.kind == "replay":
            if cell.cell_id not in self.replays:
                raise ConfigError(f"{cell.cell_id} asks for a replay this host was not given")
            return Upstream(base_url="replay:", replay=self.replays[cell.cell_id])
        if spec.kind != "remote":
            raise ConfigError(f"{cell.cell_id}: endpoint kind {spec.kind!r} is not served by this host")
        key = os.environ.get(spec.api_key_env) if spec.api_key_env else None
        if spec.api_key_env and not key:
            raise ConfigError(f"{spec.api_key_env} is not set on this host; export the endpoint key there")
        return Upstream(base_url=spec.url.rstrip("/"), api_key=key, concurrency=spec.concurrency)

    def _open_model(self, cell: CellSpec) -> ModelSession:
        assert self.proxy is not None and self.network is not None, "enter the LocalHost first"
        proxy = self.proxy
        spec = cell.policy.endpoint
        local = spec.model or cell.model if spec.kind == "local" else None
        server = self.local_models.acquire(local) if local else None
        try:
            upstream = self._upstream_for(cell, server).forcing(cell.policy.sampling)  # not on replays
            grant = proxy.open_cell(cell.cell_id, upstream)
        except BaseException:
            if local:
                self.local_models.release(local)
            raise

        def close() -> SessionRecord:
            try:
                calls = proxy.close_cell(grant.token)
            finally:
                if local:
                    self.local_models.release(local)
            record = grant.record
            return SessionRecord(calls, record.exchanges, record.infra_failure, record.started)

        if server is not None:
            served = ServedModel(server.build_id, server.context_tokens)
        elif upstream.replay is not None:  # the recorded TUI's context, told again
            served = ServedModel(context_tokens=upstream.replay.context_tokens)
        elif not asks_for_scripted(cell):
            served = self._build_ids.get(upstream.base_url, upstream.api_key, cell.model)
        else:
            served = ServedModel()
        return ModelSession(
            grant.base_url(self.network.gateway),
            grant.token,
            close,
            build_id=served.build_id,
            context_tokens=served.context_tokens,
        )

    @property
    def local_models(self) -> LocalModels:
        """This host's local model servers (``endpoint: local``), set up on first use and stopped on
        exit (a worker also stops one no cell used for ``model_idle_stop_s``)."""
        assert self._builder is not None, "enter the LocalHost first"
        with self._models_lock:
            if self._models is None:
                slots, idle_stop_s, gpus = self._model_options
                models = LocalModels(
                    self._builder, slots=slots, gpus=gpus, progress=self.progress, idle_stop_s=idle_stop_s
                )
                self._models = self._stack.enter_context(models)
            return self._models

    @property
    def image_builder(self) -> ImageBuilder:
        """This host's image builder (its registry and build locks), once entered."""
        assert self._builder is not None, "enter the LocalHost first"
        return self._builder

    def agent_image(self, name: str) -> str:
        """The tag of TUI image ``name`` on the shared base (a task without an environment), obtained
        when missing."""
        assert self._builder is not None, "enter the LocalHost first"
        return self._refs.get(name) or self._builder.ensure([name], progress=self.progress)[-1].tag

    @property
    def scorer_image(self) -> str:
        """The shared scorer image's tag (the base), for tasks without an environment."""
        return self._refs["base"]

    def _cell_images(self, name: str, task_paths: TaskPaths, progress: Callable[[str], None]) -> CellImages:
        """``HostContext.images``: TUI image ``name`` and the base for a task without an environment;
        else the TUI on the task's image, and the task's image as the scorer's. Progress goes to this
        host's console and to the cell."""
        builder = self._builder
        assert builder is not None, "enter the LocalHost first"

        def both(message: str) -> None:
            self.progress(message)
            progress(message)

        task = builder.ensure_task_image(task_paths, both)
        if task is None:
            refs = [] if name in self._refs else builder.ensure([name], both)
            agent, scorer = refs[-1].tag if refs else self._refs[name], self.scorer_image
        else:
            refs = [task, builder.ensure_on(name, task.tag, both)]
            agent, scorer = refs[-1].tag, task.tag
        return CellImages(
            agent=agent,
            scorer=scorer,
            task_image=task.tag if task else None,
            task_image_id=task.image_id if task else None,
            built=any(r.source == "built" for r in refs),
            pulled=any(r.source == "pulled" for r in refs),
            build_s=round(sum(r.build_s for r in refs), 3),
        )


@dataclass(frozen=True)
class _Scripted:
    """This host's scripted endpoint and the key only its proxy holds."""

    endpoint: ScriptedEndpoint
    key: str
