"""``cab site serve``: the built site over HTTP on this machine, and the ``/_cab/live`` endpoint.

The pages open from ``file://`` too; a server is for what ``file://`` cannot do: reload pages of a running
sweep as cells land (``live``), and let a browser test load the site like a reader would. It is the
stdlib's ``ThreadingHTTPServer`` with a handler rooted at the site folder, stricter than the stdlib's:

* nothing outside the root: a path with a ``..`` segment (plain or percent-encoded) is refused with 400,
  and a file whose real path (symlinks followed) leaves the root is not served;
* nothing hidden: a path with a segment starting with ``.`` (the build manifest ``.cab-site.json``) is 404,
  and folders are never listed (a folder answers its ``index.html`` or 404);
* content types the pages need (asciicasts, SVG badges, JSON), and ``Cache-Control: no-cache`` so a
  reader always sees the last build;
* ``GET /_cab/live`` answers ``{"live": false}`` without a live source, else its status (``cab_site.live``);
  ``/favicon.ico`` is an empty 204 when the site has none (a browser's 404 for it is a console error).

``serve`` blocks until Ctrl-C; ``ServerHandle`` runs the same server in a thread (port 0 picks a free
port) for tests and the browser test.
"""

from __future__ import annotations

import errno
import json
import os
import sys
import threading
import urllib.parse
from collections.abc import Callable
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import structlog

from cab_core.errors import ConfigError
from cab_site.live import LiveSource

log = structlog.get_logger(__name__)

LIVE_PATH = "/_cab/live"
"""Where pages ask whether the site was rebuilt (``cab_site/static/live.js`` polls it)."""

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".cast": "application/x-asciicast",
    ".png": "image/png",
    ".csv": "text/csv; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".diff": "text/plain; charset=utf-8",
    ".woff2": "font/woff2",
}
"""By suffix; anything else falls back to the ``mimetypes`` guess, then ``application/octet-stream``."""


def _segments(url_path: str) -> list[str]:
    """The decoded ``/``-separated segments of a request path (query and fragment dropped)."""
    path = urllib.parse.urlsplit(url_path).path
    return urllib.parse.unquote(path, errors="surrogatepass").replace("\\", "/").split("/")


class SiteHandler(SimpleHTTPRequestHandler):
    """Serves one site folder, read-only, with the refusals the module docstring lists."""

    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, **CONTENT_TYPES}

    def __init__(self, *args: Any, directory: str, live: LiveSource | None, **kwargs: Any) -> None:
        self.live = live
        self.root = os.path.realpath(directory)
        super().__init__(*args, directory=directory, **kwargs)

    def do_GET(self) -> None:
        path = urllib.parse.urlsplit(self.path).path
        if path == LIVE_PATH:
            self._send_live()
        elif path == "/favicon.ico" and not (Path(self.root) / "favicon.ico").is_file():
            self._send_empty()  # browsers ask for it unbidden; a 404 would be a console error
        elif self._allowed():
            super().do_GET()

    def do_HEAD(self) -> None:
        if self._allowed():
            super().do_HEAD()

    def _allowed(self) -> bool:
        """False (the error already sent) for traversal, hidden files, or a file outside the root."""
        segments = _segments(self.path)
        if any(s == ".." or "\x00" in s for s in segments):
            self.send_error(HTTPStatus.BAD_REQUEST, "Path leaves the site folder")
            return False
        if any(s.startswith(".") for s in segments):
            self.send_error(HTTPStatus.NOT_FOUND)
            return False
        real = os.path.realpath(self.translate_path(self.path))
        if real != self.root and not real.startswith(self.root + os.sep):
            self.send_error(HTTPStatus.NOT_FOUND)
            return False
        return True

    def list_directory(self, path: str | os.PathLike[str]) -> None:
        """Folders are never listed: only their ``index.html`` is served (see ``send_head``)."""
        self.send_error(HTTPStatus.NOT_FOUND)

    def _send_empty(self) -> None:
        self.send_response(HTTPStatus.NO_CONTENT)
        self.end_headers()

    def _send_live(self) -> None:
        status = self.live.status().as_json() if self.live is not None else {"live": False}
        body = json.dumps(status).encode()
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("site_request", client=self.address_string(), line=format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A reader closing the tab mid-response is normal; anything else is logged, never printed."""
        error = sys.exc_info()[1]
        if not isinstance(error, ConnectionError):
            log.warning("site_request_failed", client=str(client_address), error=repr(error))


def _bind(root: Path, host: str, port: int, live: LiveSource | None) -> _Server:
    """The bound (not yet serving) server; a port in use or a bad host is one ``ConfigError`` line."""
    if not root.is_dir():
        raise ConfigError(f"no site at {root}: build one with `cab site build SWEEP -o {root}`")

    directory = str(root.resolve())

    def handler(*args: Any) -> SiteHandler:
        return SiteHandler(*args, directory=directory, live=live)

    try:
        return _Server((host, port), handler)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"port {port} on {host} is in use: stop what holds it or pass --port N (0: any free port)"
            ) from error
        raise ConfigError(f"cannot listen on {host}:{port}: {error.strerror or error}") from error


def _url(server: _Server) -> str:
    host, port = server.server_address[:2]
    shown = host if isinstance(host, str) else host.decode()
    return f"http://{f'[{shown}]' if ':' in shown else shown}:{port}/"


def _stderr_line(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def serve(
    root: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    live: LiveSource | None = None,
    announce: Callable[[str], None] = _stderr_line,
) -> None:
    """Serve ``root`` until Ctrl-C; ``live`` (started and stopped here) rebuilds it as cells land.

    ``announce`` gets the one startup line with the URL (stderr by default).
    """
    server = _bind(root, host, port, live)
    url = _url(server)
    log.info("site_serving", url=url, root=str(root), live=live is not None)
    announce(f"Serving {root} at {url}{' (live)' if live else ''}; Ctrl-C stops")
    if live is not None:
        live.start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if live is not None:
            live.stop()
        log.info("site_stopped", url=url)


SHUTDOWN_POLL_S = 0.05
"""How often a ``ServerHandle``'s thread looks for a stop request (the stdlib's 0.5 s slows tests)."""


class ServerHandle:
    """The server of ``serve`` in a background thread, as a context manager::

    with ServerHandle(site_dir) as server:      # port 0: a free port
        httpx.get(server.url + "index.html")
    """

    def __init__(
        self, root: Path, *, host: str = "127.0.0.1", port: int = 0, live: LiveSource | None = None
    ) -> None:
        self.root, self.host, self.port, self.live = root, host, port, live
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://host:port/`` of the running server."""
        if self._server is None:
            raise RuntimeError("ServerHandle.url is known only inside its `with` block")
        return _url(self._server)

    def __enter__(self) -> ServerHandle:
        self._server = _bind(self.root, self.host, self.port, self.live)
        if self.live is not None:
            self.live.start()
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(SHUTDOWN_POLL_S,), name="cab-site-serve", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        if self.live is not None:
            self.live.stop()
        self._server = self._thread = None
