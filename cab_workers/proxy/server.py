"""``ModelProxy``: the per-host recording proxy, an aiohttp server on its own event-loop thread.

    with ModelProxy() as proxy:                                  # 127.0.0.1, ephemeral port
        grant = proxy.open_cell(cell_id, Upstream(url, api_key=real_key))
        ...  agent gets grant.base_url(gateway) and grant.token (EndpointWiring) ...
        calls = proxy.close_cell(grant.token)                    # token revoked; calls in order, those
                                                                 # in flight cut short (CUT_WAIT_S)
        grant.record.infra_failure                               # None, or why the cell is infra
        grant.record.exchanges                                   # the bytes, for replay

The socket is bound before the thread starts (``port`` is known at once); ``start`` returns when the
site is listening and the upstream session exists. ``stop`` closes the listener, gives in-flight
calls ``shutdown_timeout_s`` to finish, and joins the thread. The loop is uvloop's when installed.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable
from types import TracebackType

import structlog
from aiohttp import web

from cab_core.errors import InfraError
from cab_core.schema import ModelCall
from cab_core.settings import ProxySettings
from cab_workers.proxy.app import create_proxy_app
from cab_workers.proxy.cells import CellGrant, CellRegistry, Upstream
from cab_workers.proxy.forward import RetryPolicy
from cab_workers.proxy.limits import Limiter, LocalLimiter, RedisLimiter

log = structlog.get_logger(__name__)

BACKLOG = 4096
CUT_WAIT_S = 5.0
"""Longest ``close_cell`` waits for the calls it cut short to record themselves."""


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency; plain asyncio still works
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


DEFAULTS = ProxySettings()
"""The settings tree's proxy defaults, for hosts and tests that do not pass their own."""


class ModelProxy:
    """One recording reverse proxy for every cell of a worker host."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        config: ProxySettings = DEFAULTS,
        redis_url: str | None = None,
        startup_timeout_s: float = 10.0,
        shutdown_timeout_s: float = 10.0,
    ) -> None:
        """``config``: retries, upstream timeout and slot lease (the settings tree's ``proxy``; its
        defaults when not given). ``redis_url`` set: endpoint concurrency caps are shared with every
        proxy on that Redis."""
        self.host = host
        self.registry = CellRegistry()
        policy = RetryPolicy(config.max_retries, config.backoff_base_s, config.backoff_cap_s)
        limiter: Callable[[], Limiter] = (
            (lambda: RedisLimiter(redis_url, lease_s=config.cap_lease_s)) if redis_url else LocalLimiter
        )
        self.app = create_proxy_app(self.registry, policy, config.upstream_timeout_s, limiter)
        self._requested_port = port
        self._startup_timeout_s, self._shutdown_timeout_s = startup_timeout_s, shutdown_timeout_s
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
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
        if not self._ready.is_set():
            raise RuntimeError("start the ModelProxy before opening cells")
        token, record = self.registry.open(cell_id, upstream)
        log.info("proxy_cell_opened", cell_id=cell_id, open_cells=len(self.registry))
        return CellGrant(cell_id=cell_id, token=token, port=self.port, record=record)

    def close_cell(self, token: str) -> list[ModelCall]:
        """Revoke the cell's token and return every call recorded for it, in order ([] if unknown).

        Calls still in flight (the agent was stopped mid-call) are cancelled, which closes their
        upstream connections (a model does not go on generating for nobody), and recorded as cut
        short; this waits up to ``CUT_WAIT_S`` for those records."""
        record = self.registry.close(token)
        if record is None:
            log.warning("proxy_close_unknown_cell")
            return []
        running = self._thread is not None and self._thread.is_alive()
        left = record.close(CUT_WAIT_S if running else 0.0)
        if left:
            log.warning("proxy_cell_closed_in_flight", cell_id=record.cell_id, in_flight=left)
        calls = record.calls
        log.info("proxy_cell_closed", cell_id=record.cell_id, calls=len(calls), infra=record.infra_failure)
        return calls

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> ModelProxy:
        if self._thread is not None:
            raise RuntimeError("a ModelProxy starts once")
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self._requested_port))
        except OSError as exc:
            sock.close()
            raise InfraError(f"model proxy cannot bind {self.host}:{self._requested_port}: {exc}") from exc
        self.port = sock.getsockname()[1]
        self._thread = threading.Thread(
            target=self._serve, args=(sock,), name=f"proxy-{self.port}", daemon=True
        )
        self._thread.start()
        if not self._ready.wait(self._startup_timeout_s) or self._crash is not None:
            self.stop()
            raise InfraError(f"model proxy did not start on port {self.port}: {self._crash!r}")
        log.info("proxy_started", url=self.url)
        return self

    def _serve(self, sock: socket.socket) -> None:
        loop = self._loop = _new_loop()
        try:
            loop.run_until_complete(self._main(sock))
        except BaseException as exc:  # noqa: BLE001 - reported by start() / stop()
            self._crash = exc
            self._ready.set()
        finally:
            sock.close()
            loop.close()

    async def _main(self, sock: socket.socket) -> None:
        self._stop = asyncio.Event()
        runner = web.AppRunner(
            self.app,
            access_log=None,
            handle_signals=False,
            shutdown_timeout=self._shutdown_timeout_s,
            handler_cancellation=True,  # an agent that hangs up cuts its call: the endpoint stops too
        )
        await runner.setup()
        try:
            await web.SockSite(runner, sock, backlog=BACKLOG).start()
            self._ready.set()
            await self._stop.wait()
        finally:
            await runner.cleanup()

    def stop(self) -> None:
        """Stop serving (bounded wait for in-flight calls) and join the thread (idempotent)."""
        thread, loop, stop = self._thread, self._loop, self._stop
        if thread is None:
            return
        if loop is not None and stop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:  # the loop closed in between
                pass
        thread.join(self._shutdown_timeout_s + 5)
        clean = not thread.is_alive()
        self._thread = None
        self._ready.clear()
        log.info("proxy_stopped", port=self.port, clean=clean)

    def __enter__(self) -> ModelProxy:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
