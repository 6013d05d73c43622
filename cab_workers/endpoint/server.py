"""Run the scripted endpoint in a background thread, as a context manager.

    with ScriptedEndpoint(tasks_root) as ep:      # binds 127.0.0.1 on an ephemeral port
        httpx.get(f"{ep.url}/models")            # ep.url == "http://127.0.0.1:<port>/v1"

The socket is bound before the thread starts, so ``port`` is known at once; ``__enter__`` returns
when uvicorn reports itself started (or raises after ``startup_timeout_s``). ``__exit__`` releases
hanging requests, asks uvicorn to exit and joins the thread.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from types import TracebackType

import structlog
import uvicorn

from cab_core.errors import InfraError
from cab_workers.endpoint.app import create_app

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
        startup_timeout_s: float = 10.0,
        shutdown_timeout_s: float = 10.0,
    ) -> None:
        self.host = host
        self.app = create_app(Path(tasks_root), api_key=api_key)
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

    def start(self) -> ScriptedEndpoint:
        if self._thread is not None or self.app.state.closing.is_set():
            raise RuntimeError("a ScriptedEndpoint starts once")
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self._requested_port))
        except OSError as exc:
            sock.close()
            raise InfraError(
                f"scripted endpoint cannot bind {self.host}:{self._requested_port}: {exc}"
            ) from exc
        self._sock = sock
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app, log_config=None, access_log=False, lifespan="off", timeout_graceful_shutdown=2
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._serve, name=f"scripted-endpoint-{self.port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + self._startup_timeout_s
        while not self._server.started:
            if self._crash is not None or not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise InfraError(f"scripted endpoint did not start on port {self.port}: {self._crash!r}")
            self._thread.join(0.01)  # wait a tick for the server thread, then re-check its flag
        log.info("endpoint_started", url=self.url)
        return self

    def _serve(self) -> None:
        assert self._server is not None and self._sock is not None
        try:
            self._server.run(sockets=[self._sock])
        except BaseException as exc:  # uvicorn exits with SystemExit on startup failures
            self._crash = exc

    def stop(self) -> None:
        """Release hanging requests, stop uvicorn and join its thread (idempotent)."""
        self.app.state.closing.set()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(self._shutdown_timeout_s)
            if self._thread.is_alive() and self._server is not None:
                self._server.force_exit = True
                self._thread.join(self._shutdown_timeout_s)
            log.info("endpoint_stopped", port=self.port, clean=not self._thread.is_alive())
        if self._sock is not None:
            self._sock.close()
        self._sock, self._thread = None, None

    def __enter__(self) -> ScriptedEndpoint:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
