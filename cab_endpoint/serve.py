"""Run the scripted endpoint in a background thread, as a context manager.

    with ScriptedEndpoint(tasks_root) as ep:      # binds 127.0.0.1 on an ephemeral port
        httpx.get(f"{ep.url}/models")            # ep.url == "http://127.0.0.1:<port>/v1"

The socket is bound before the thread starts, so ``port`` is known at once; ``__enter__`` returns
when uvicorn reports itself started (or raises after ``startup_timeout_s``). ``__exit__`` releases
hanging requests, asks uvicorn to exit and joins the thread.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

import structlog

from cab_endpoint.api import create_app
from cab_endpoint.profiles import DEFAULT_PROFILE
from cab_endpoint.serving import ThreadedServer

log = structlog.get_logger(__name__)


class ScriptedEndpoint:
    """The scripted OpenAI-compatible endpoint, served by uvicorn on a background thread."""

    def __init__(
        self,
        tasks_root: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        versions_root: Path | None = None,
        profile: str = DEFAULT_PROFILE,
        startup_timeout_s: float = 10.0,
        shutdown_timeout_s: float = 10.0,
    ) -> None:
        """``profile``: the server profile of requests that do not name one (``cab_endpoint.profiles``)."""
        self.host = host
        self.app = create_app(
            Path(tasks_root), api_key=api_key, versions_root=versions_root, profile_name=profile
        )
        self._server = ThreadedServer(
            self.app,
            name="scripted endpoint",
            host=host,
            port=port,
            startup_timeout_s=startup_timeout_s,
            shutdown_timeout_s=shutdown_timeout_s,
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

    def start(self) -> ScriptedEndpoint:
        if self._server.started or self.app.state.closing.is_set():
            raise RuntimeError("a ScriptedEndpoint starts once")
        self._server.start()
        log.info("endpoint_started", url=self.url)
        return self

    def stop(self) -> None:
        """Release hanging requests, stop uvicorn and join its thread (idempotent)."""
        self.app.state.closing.set()
        was_running = self._server.started
        clean = self._server.stop()
        if was_running:
            log.info("endpoint_stopped", port=self.port, clean=clean)

    def __enter__(self) -> ScriptedEndpoint:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
