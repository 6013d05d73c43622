"""Limits a container's runtime cannot enforce by itself, watched from the host.

    disk_usage_bytes(paths)   bytes actually allocated under some folders (sparse files count as holes)
    DiskWatchdog              a thread measuring the cell's writable mounts; over the quota it calls
                              ``on_exceeded`` once and stops

Docker on overlay2 has no per-container quota for bind mounts, and an agent's work dir is one. The
watchdog polls: each round's walk is timed and the next round waits ten times as long (at least
``min_interval_s``), so a work dir with a large ``node_modules`` costs at most a tenth of a core.
A fast writer can overshoot the quota by what it writes in one interval; the kill still comes.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterable

import structlog

from cab_workers.host.containers import ContainerSpec, LimitKill

log = structlog.get_logger(__name__)


def disk_usage_bytes(paths: Iterable[str]) -> int:
    """Allocated bytes (``st_blocks * 512``) of every file and folder under ``paths``; links not followed."""
    total = 0
    stack = [p for p in paths if os.path.isdir(p)]
    while stack:
        try:
            with os.scandir(stack.pop()) as entries:
                for entry in entries:
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except OSError:  # removed while we looked
                        continue
                    total += st.st_blocks * 512
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
        except OSError:
            continue
    return total


class DiskWatchdog:
    """Measures ``paths`` until stopped; calls ``on_exceeded(used_bytes)`` once when over ``limit_bytes``."""

    def __init__(
        self,
        paths: Iterable[str],
        limit_bytes: int,
        on_exceeded: Callable[[int], None],
        *,
        min_interval_s: float = 0.5,
        name: str = "disk-watchdog",
    ) -> None:
        self.paths = tuple(paths)
        self.limit_bytes = limit_bytes
        self.on_exceeded = on_exceeded
        self.min_interval_s = min_interval_s
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name=name, daemon=True)

    def __enter__(self) -> DiskWatchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _watch(self) -> None:
        interval = self.min_interval_s
        while not self._stop.wait(interval):
            t0 = time.monotonic()
            used = disk_usage_bytes(self.paths)
            self.peak_bytes = max(self.peak_bytes, used)
            if used > self.limit_bytes:
                log.warning("disk_quota_exceeded", used_bytes=used, limit_bytes=self.limit_bytes)
                self.on_exceeded(used)
                return
            interval = max(self.min_interval_s, 10 * (time.monotonic() - t0))


def disk_watchdog(spec: ContainerSpec, kill: LimitKill) -> contextlib.AbstractContextManager[object]:
    """Watches the spec's writable folders while the container runs (a no-op without a disk limit)."""
    limit_mb = spec.disk_limit_mb
    if limit_mb is None or not spec.watch_dirs:
        return contextlib.nullcontext()
    return DiskWatchdog(
        spec.watch_dirs,
        limit_mb << 20,
        lambda used: kill(f"exceeded its disk quota ({used >> 20} MiB written, limit {limit_mb} MiB)"),
        name=f"disk-{spec.name}",
    )
