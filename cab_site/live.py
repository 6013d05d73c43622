"""``cab site serve --live``: rebuild the site while a sweep runs, and tell open pages to reload.

A background thread reads a cheap signature of each sweep from the store
(``ResultStore.sweep_signature``: stored attempts and the newest write time) every ``poll_s`` seconds.
When it differs from the last one seen, the thread calls ``rebuild`` (the CLI passes
``lambda: build_site(...)``, which rewrites only the pages whose cells changed) and then bumps
``version``. The server answers ``GET /_cab/live`` with :meth:`LiveSource.status`; every page carries
``static/live.js``, which polls it and reloads when the version grows.

A failing rebuild or store read is logged and shown in the status (``error``); it never stops the
thread or the server. A failed rebuild is retried at the next change of the store, not every poll:
a build that fails on some record would otherwise fail, and log, every few seconds.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from cab_core.store import ResultStore
from cab_core.store.result_store import SweepSignature

log = structlog.get_logger(__name__)

POLL_S = 2.0
"""Default seconds between two reads of the store's signature."""

STOP_WAIT_S = 10.0
"""Most ``stop`` waits for a rebuild in progress; the thread is a daemon, so it never blocks exit."""


@dataclass(frozen=True)
class LiveStatus:
    """What ``GET /_cab/live`` answers."""

    version: int
    """Rebuilds finished since the source started; pages reload when it grows."""
    building: bool
    """A rebuild is running now."""
    cells: int
    """Stored attempts of the sweeps at the last read of the store."""
    error: str | None = None
    """One line: why the last rebuild (or store read) failed; None once one succeeds."""

    def as_json(self) -> dict[str, Any]:
        """The endpoint's JSON object; ``error`` only when there is one."""
        body: dict[str, Any] = {
            "live": True,
            "version": self.version,
            "building": self.building,
            "cells": self.cells,
        }
        if self.error is not None:
            body["error"] = self.error
        return body


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or "no message"
    return f"{type(error).__name__}: {text}"[:500]


class LiveSource:
    """Polls the store for changes of ``sweep_ids`` and calls ``rebuild`` when they change.

    ``rebuild_first`` rebuilds at the first poll even though nothing changed since: cells may have
    landed between the CLI's own build and the start of this source. Thread-safe; ``start`` and ``stop``
    may be called more than once.
    """

    def __init__(
        self,
        store: ResultStore,
        sweep_ids: Sequence[str],
        rebuild: Callable[[], object],
        *,
        poll_s: float = POLL_S,
        rebuild_first: bool = True,
    ) -> None:
        if poll_s <= 0:
            raise ValueError(f"poll_s must be > 0, got {poll_s}")
        self.store, self.sweep_ids, self.rebuild, self.poll_s = store, tuple(sweep_ids), rebuild, poll_s
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen: tuple[SweepSignature, ...] | None = None
        self._status = LiveStatus(version=0, building=False, cells=0)
        self._rebuild_first = rebuild_first
        self._read_failed = False

    def status(self) -> LiveStatus:
        """The current status (a snapshot)."""
        with self._lock:
            return self._status

    def _update(self, **changes: Any) -> LiveStatus:
        with self._lock:
            self._status = dataclasses.replace(self._status, **changes)
            return self._status

    def poll_once(self) -> bool:
        """Read the signature; rebuild if it changed (or first, see ``rebuild_first``). True if it rebuilt.

        Never raises: failures are logged and kept in the status.
        """
        try:
            signature = tuple(self.store.sweep_signature(s) for s in self.sweep_ids)
        except Exception as error:  # the store may be briefly unreachable; the next poll retries
            log.warning("site_live_read_failed", error=_one_line(error))
            self._update(error=_one_line(error))
            self._read_failed = True
            return False
        if self._read_failed:  # the store answers again: its error is over
            self._read_failed = False
            self._update(error=None)
        first = self._seen is None
        if signature == self._seen or (first and not self._rebuild_first):
            self._seen = signature
            return False
        self._seen = signature
        self._update(building=True, cells=sum(s.attempts for s in signature))
        started = time.perf_counter()
        try:
            self.rebuild()
        except Exception as error:  # a broken build is shown to the reader, never kills the server
            message = _one_line(error)
            log.error("site_live_rebuild_failed", error=message)
            self._update(building=False, error=message)
            return False
        version = self.status().version + 1  # only the polling thread writes the version
        status = self._update(building=False, error=None, version=version)
        log.info("site_live_rebuilt", version=status.version, seconds=round(time.perf_counter() - started, 3))
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll_once()
            self._stop.wait(self.poll_s)

    def start(self) -> None:
        """Start polling in a daemon thread (no-op when already running)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="cab-site-live", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = STOP_WAIT_S) -> None:
        """Stop polling; waits up to ``timeout_s`` for a rebuild in progress to finish."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def __enter__(self) -> LiveSource:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
