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

import socket
import threading
import time
from types import TracebackType

import structlog
import uvicorn

from cab_core.errors import InfraError
from cab_core.schema import ModelCall
from cab_workers.proxy.app import create_proxy_app
from cab_workers.proxy.cells import CellGrant, CellRegistry, Upstream
from cab_workers.proxy.forward import RetryPolicy

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
        self._requested_port = port
        self._startup_timeout_s = startup_timeout_s
        self._shutdown_timeout_s = shutdown_timeout_s
        self._sock: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._crash: BaseException | None = None
        self.port = 0
        """The bound port (the ephemeral one when constructed with ``port=0``), set by ``start``."""

    @property
    def url(self) -> str:
        """Base URL ending in ``/v1``, as reached from this host."""
        return self.url_for("127.0.0.1" if self.host in ("0.0.0.0", "") else self.host)

    def url_for(self, host: str) -> str:
        """Base URL through another name for this host (e.g. the Docker bridge gateway)."""
        return f"http://{host}:{self.port}/v1"

    def open_cell(self, cell_id: str, upstream: Upstream) -> CellGrant:
        """Accept a new per-cell token until ``close_cell``; calls with it go to ``upstream``."""
        if self._thread is None:
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
        if self._thread is not None:
            raise RuntimeError("a ModelProxy starts once")
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self._requested_port))
        except OSError as exc:
            sock.close()
            raise InfraError(f"model proxy cannot bind {self.host}:{self._requested_port}: {exc}") from exc
        self._sock = sock
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_config=None,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=2,
            backlog=4096,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._serve, name=f"model-proxy-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self._startup_timeout_s
        while not self._server.started:
            if self._crash is not None or not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise InfraError(f"model proxy did not start on port {self.port}: {self._crash!r}")
            self._thread.join(0.01)  # wait a tick for the server thread, then re-check its flag
        log.info("proxy_started", url=self.url)
        return self

    def _serve(self) -> None:
        assert self._server is not None and self._sock is not None
        try:
            self._server.run(sockets=[self._sock])
        except BaseException as exc:  # uvicorn exits with SystemExit on startup failures
            self._crash = exc

    def stop(self) -> None:
        """Stop uvicorn and join its thread (idempotent)."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(self._shutdown_timeout_s)
            if self._thread.is_alive() and self._server is not None:
                self._server.force_exit = True
                self._thread.join(self._shutdown_timeout_s)
            log.info("proxy_stopped", port=self.port, clean=not self._thread.is_alive())
        if self._sock is not None:
            self._sock.close()
        self._sock = None

    def __enter__(self) -> ModelProxy:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
