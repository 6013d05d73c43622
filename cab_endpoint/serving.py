"""An ASGI app served by uvicorn on a background thread of this process.

The socket is bound before the thread starts, so ``port`` is known at once (ephemeral with
``port=0``); ``start`` returns once uvicorn reports itself started, or raises ``InfraError`` after
``startup_timeout_s``; ``stop`` asks uvicorn to exit, forces it after ``shutdown_timeout_s`` and
joins the thread. Used by the scripted endpoint and by the model proxy.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any, Literal

import uvicorn

from cab_core.errors import InfraError


class ThreadedServer:
    """uvicorn serving ``app`` on ``host:port`` from a daemon thread."""

    def __init__(
        self,
        app: Any,
        *,
        name: str,
        host: str = "127.0.0.1",
        port: int = 0,
        lifespan: Literal["on", "off"] = "off",
        startup_timeout_s: float = 10.0,
        shutdown_timeout_s: float = 10.0,
        backlog: int = 2048,
    ) -> None:
        self.app, self.name, self.host = app, name, host
        self._requested_port, self._lifespan, self._backlog = port, lifespan, backlog
        self._startup_timeout_s, self._shutdown_timeout_s = startup_timeout_s, shutdown_timeout_s
        self._sock: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._crash: BaseException | None = None
        self.port = 0
        """The bound port, set by :meth:`start`."""

    @property
    def started(self) -> bool:
        return self._thread is not None

    def url_for(self, host: str) -> str:
        """Base URL ending in ``/v1`` through a given name of this host (e.g. a Docker gateway)."""
        return f"http://{host}:{self.port}/v1"

    @property
    def url(self) -> str:
        """Base URL ending in ``/v1``, as reached from this host."""
        return self.url_for("127.0.0.1" if self.host in ("0.0.0.0", "") else self.host)

    def start(self) -> None:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self._requested_port))
        except OSError as exc:
            sock.close()
            raise InfraError(f"{self.name} cannot bind {self.host}:{self._requested_port}: {exc}") from exc
        self._sock, self.port = sock, sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_config=None,
            access_log=False,
            lifespan=self._lifespan,
            timeout_graceful_shutdown=2,
            backlog=self._backlog,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._serve, name=f"{self.name}-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self._startup_timeout_s
        while not self._server.started:
            if self._crash is not None or not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise InfraError(f"{self.name} did not start on port {self.port}: {self._crash!r}")
            self._thread.join(0.01)  # wait a tick for the server thread, then re-check its flag

    def _serve(self) -> None:
        assert self._server is not None and self._sock is not None
        try:
            self._server.run(sockets=[self._sock])
        except BaseException as exc:  # uvicorn exits with SystemExit on startup failures
            self._crash = exc

    def stop(self) -> bool:
        """Stop uvicorn and join its thread (idempotent); True when the thread ended cleanly."""
        clean = True
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(self._shutdown_timeout_s)
            if self._thread.is_alive() and self._server is not None:
                self._server.force_exit = True
                self._thread.join(self._shutdown_timeout_s)
            clean = not self._thread.is_alive()
        if self._sock is not None:
            self._sock.close()
        self._sock, self._thread = None, None
        return clean
