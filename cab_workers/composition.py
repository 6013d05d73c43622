"""The local executor: runs a sweep's cells on this host, in threads, with a progress bar.

``LocalHost`` is the worker-host setup as a context manager: Docker engine, images (built when
missing), the internal agent network, and the scripted endpoint listening on that network's
gateway. ``run_sweep`` resumes: cells whose latest result is final are skipped, cells whose latest
attempt failed for infra reasons run again as the next attempt.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import ExitStack
from dataclasses import dataclass

import structlog

from cab_core.budget import exhausted
from cab_core.errors import ConfigError
from cab_core.pricing import PriceTable
from cab_core.schema import CellResult, CellSpec
from cab_core.settings import Settings
from cab_core.store import ResultStore
from cab_endpoint import ScriptedEndpoint
from cab_scheduler.catalog import TaskCatalog
from cab_workers.cell.pipeline import HostContext, ModelSession, SessionRecord, run_cell
from cab_workers.cell.replay_plan import REPLAY_ENDPOINT
from cab_workers.host.egress import EgressLock
from cab_workers.host.images import ImageBuilder
from cab_workers.host.sandbox import AgentNetwork, Sandbox
from cab_workers.proxy import ModelProxy, ReplayBook, Upstream

log = structlog.get_logger(__name__)

AGENT_NETWORK = "cab-agents"
"""Internal Docker network: no internet; only the host's gateway address (the model proxy) is reachable."""


class LocalHost:
    """Everything a host needs to run cells; enter it once per sweep."""

    def __init__(
        self,
        settings: Settings,
        *,
        progress: Callable[[str], None] = lambda _: None,
        keep_workdirs: bool = False,
        redis_url: str | None = None,
        replays: Mapping[str, ReplayBook] | None = None,
    ) -> None:
        """``redis_url``: share endpoint concurrency caps with every host on that Redis (distributed).
        ``replays``: cell id -> the recorded answers its ``endpoint: replay`` calls get (``cab replay``)."""
        self.settings = settings
        self.redis_url = redis_url
        self.replays = dict(replays or {})
        self.progress = progress
        self.keep_workdirs = keep_workdirs
        self._stack = ExitStack()
        self.ctx: HostContext | None = None
        self.sandbox: Sandbox | None = None
        self.network: AgentNetwork | None = None
        """The agents' network (set on enter)."""
        self.proxy: ModelProxy | None = None
        """This host's recording proxy (set on enter)."""

    def __enter__(self) -> LocalHost:
        home = self.settings.cab_home.ensure()
        self.sandbox = sandbox = Sandbox()
        builder = ImageBuilder(
            sandbox,
            self.settings.images_dir,
            prefix=self.settings.image_prefix,
            ca_bundle=self.settings.ca_bundle,
        )
        refs = {ref.name: ref.tag for ref in builder.ensure(progress=self.progress)}
        self.network = network = sandbox.ensure_network(AGENT_NETWORK, internal=True)
        gateway = network.gateway
        # The scripted endpoint listens on loopback behind a key, like a real endpoint: only the proxy
        # (on the agents' gateway, their one reachable address) holds the key and can reach it.
        scripted_key = f"cab-scripted-{secrets.token_urlsafe(24)}"
        endpoint = self._stack.enter_context(
            ScriptedEndpoint(self.settings.tasks_dir, host="127.0.0.1", port=0, api_key=scripted_key)
        )
        self.proxy = proxy = self._stack.enter_context(
            ModelProxy(host=gateway, port=0, redis_url=self.redis_url)
        )
        if self.settings.egress_lock:
            self._stack.enter_context(EgressLock(network.bridge, gateway, proxy.port))
        else:
            log.warning(
                "egress_lock_off", network=network.name, hint="agents can reach every port of this host"
            )
        catalog = TaskCatalog(self.settings.tasks_dir)

        def upstream_for(cell: CellSpec) -> Upstream:
            cap = cell.endpoint_concurrency
            if cell.endpoint == "scripted":
                return Upstream(base_url=endpoint.url, api_key=scripted_key, concurrency=cap)
            if cell.endpoint == REPLAY_ENDPOINT:
                if cell.cell_id not in self.replays:
                    raise ConfigError(f"{cell.cell_id} asks for a replay this host was not given")
                return Upstream(base_url="replay:", replay=self.replays[cell.cell_id])
            key = os.environ.get(cell.api_key_env) if cell.api_key_env else None
            if cell.api_key_env and not key:
                raise ConfigError(
                    f"{cell.api_key_env} is not set on this host; export the endpoint key there"
                )
            return Upstream(base_url=cell.endpoint.rstrip("/"), api_key=key, concurrency=cap)

        def open_model(cell: CellSpec) -> ModelSession:
            grant = proxy.open_cell(cell.cell_id, upstream_for(cell))

            def close() -> SessionRecord:
                calls = proxy.close_cell(grant.token)
                record = grant.record
                return SessionRecord(calls, record.exchanges, record.infra_failure, record.started)

            return ModelSession(grant.base_url(gateway), grant.token, close)

        def agent_image(name: str) -> str:
            return refs.get(name) or builder.ensure([name], progress=self.progress)[-1].tag

        self.ctx = HostContext(
            home=home,
            sandbox=sandbox,
            task_root=catalog.paths,
            agent_image=agent_image,
            scorer_image=refs["base"],
            open_model=open_model,
            network=AGENT_NETWORK,
            host=socket.gethostname(),
            keep_workdirs=self.keep_workdirs,
            prices=PriceTable.load(self.settings.price_table),
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()


@dataclass
class SweepPlan:
    """What ``run_sweep`` will do: cells to run (with their attempt numbers) and cells skipped."""

    to_run: list[tuple[CellSpec, int]]
    skipped: list[str]


def plan(cells: list[CellSpec], store: ResultStore) -> SweepPlan:
    """Resume rule: skip cells with a final latest result; others run as their next attempt."""
    sweep_ids = {c.sweep_id for c in cells}
    final: set[str] = set()
    for sweep_id in sweep_ids:
        final |= store.final_cell_ids(sweep_id)
    to_run = [(c, store.next_attempt(c.cell_id)) for c in cells if c.cell_id not in final]
    return SweepPlan(to_run=to_run, skipped=sorted(c.cell_id for c in cells if c.cell_id in final))


def run_planned(
    sweep_plan: SweepPlan,
    ctx: HostContext,
    store: ResultStore,
    *,
    slots: int,
    on_done: Callable[[CellResult], None] = lambda _: None,
    on_skip: Callable[[CellSpec, str], None] = lambda _c, _why: None,
) -> list[CellResult]:
    """Run the planned cells with ``slots`` at once; each result is stored as soon as it exists.

    Before a cell starts, its sweep's budget is checked against the store: once it is spent, the
    remaining cells are handed to ``on_skip`` with the reason and not run (no result is stored)."""
    results: list[CellResult] = []
    if not sweep_plan.to_run:
        return results

    def start(cell: CellSpec, attempt: int) -> CellResult | str:
        spent = exhausted(cell.budget, store.sweep_spend(cell.sweep_id)) if cell.budget else None
        return spent or run_cell(cell, ctx, attempt=attempt, sink=store.upsert_result)

    with ThreadPoolExecutor(max_workers=slots, thread_name_prefix="cab-cell") as pool:
        futures = {pool.submit(start, cell, attempt): cell for cell, attempt in sweep_plan.to_run}
        try:
            for fut in as_completed(futures):
                result = fut.result()
                if isinstance(result, str):
                    log.warning("cell_skipped_budget", cell_id=futures[fut].cell_id, reason=result)
                    on_skip(futures[fut], result)
                    continue
                results.append(result)
                on_done(result)
        except BaseException:
            # Queued cells never start; running ones lose their containers now (instead of at their
            # deadline), finish as infra failures, get stored, and rerun on resume.
            for fut in futures:
                fut.cancel()
            removed = ctx.sandbox.reap(owner_pid=os.getpid())
            log.warning("sweep_interrupted", containers_removed=len(removed))
            raise
    return results
