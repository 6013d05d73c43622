"""``ModelProxy``: the per-host recording proxy, served by uvicorn on a background thread.

    with ModelProxy() as proxy:                                  # 127.0.0.1, ephemeral port
        grant = proxy.open_cell(cell_id, Upstream(url, api_key=real_key))
        ...  agent gets grant.base_url(gateway) and grant.token (EndpointWiring) ...
        calls = proxy.close_cell(grant.token)                    # token revoked; calls in order
        grant.record.infra_failure                               # None, or why the cell is infra

The socket is bound before the thread starts (``port`` is known at once); ``start`` returns when
uvicorn has run the app's lifespan (the upstream client exists). ``stop`` asks uvicorn to exit,
waits a bounded time for in-flight streams, and joins the thread.
"""

from __future__ import annotations

from types import TracebackType

import structlog

from cab_core.schema import ModelCall
from cab_workers.proxy.app import create_proxy_app
from cab_workers.proxy.cells import CellGrant, CellRegistry, Upstream
from cab_workers.proxy.forward import RetryPolicy
from cab_workers.serving import ThreadedServer

log = structlog.get_logger(__name__)


class ModelProxy:
    """One recording reverse proxy for every cell of a worker host."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_retries: int = 4,
        backoff_base_s: float = 0.5,
        backoff_cap_s: float = 30.0,
        upstream_timeout_s: float = 600.0,
        startup_timeout_s: float = 10.0,
        shutdown_timeout_s: float = 10.0,
    ) -> None:
        self.host = host
        self.registry = CellRegistry()
        policy = RetryPolicy(max_retries, backoff_base_s, backoff_cap_s)
        self.app = create_proxy_app(self.registry, policy, upstream_timeout_s)
        self._server = ThreadedServer(
            self.app,
            name="model proxy",
            host=host,
            port=port,
            lifespan="on",
            startup_timeout_s=startup_timeout_s,
            shutdown_timeout_s=shutdown_timeout_s,
            backlog=4096,
        )

    @property
    def port(self) -> int:
        """The bound port (the ephemeral one when constructed with ``port=0``), set by ``start``."""
        return self._server.port

    @property
    def url(self) -> str:
        """Base URL ending in ``/v1``, as reached from this host."""
        return self._server.url

    def url_for(self, host: str) -> str:
        """Base URL through another name for this host (e.g. the Docker bridge gateway)."""
        return self._server.url_for(host)

    def open_cell(self, cell_id: str, upstream: Upstream) -> CellGrant:
        """Accept a new per-cell token until ``close_cell``; calls with it go to ``upstream``."""
        if not self._server.started:
            raise RuntimeError("start the ModelProxy before opening cells")
        token, record = self.registry.open(cell_id, upstream)
        log.info("proxy_cell_opened", cell_id=cell_id, open_cells=len(self.registry))
        return CellGrant(cell_id=cell_id, token=token, port=self.port, record=record)

    def close_cell(self, token: str) -> list[ModelCall]:
        """Revoke the cell's token and return every call recorded for it, in order ([] if unknown)."""
        record = self.registry.close(token)
        if record is None:
            log.warning("proxy_close_unknown_cell")
            return []
        calls = record.calls
        log.info("proxy_cell_closed", cell_id=record.cell_id, calls=len(calls), infra=record.infra_failure)
        return calls

    def start(self) -> ModelProxy:
        if self._server.started:
            raise RuntimeError("a ModelProxy starts once")
        self._server.start()
        log.info("proxy_started", url=self.url)
        return self

    def stop(self) -> None:
        """Stop uvicorn (bounded wait for in-flight streams) and join its thread (idempotent)."""
        was_running = self._server.started
        clean = self._server.stop()
        if was_running:
            log.info("proxy_stopped", port=self.port, clean=clean)

    def __enter__(self) -> ModelProxy:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
