"""The host's task cache: a cell runs only against the task content it was submitted with.

A cell carries the content hash of its task folder (``CellSpec.task_hash``). The cache resolves it
to a folder holding exactly that content::

    $CAB_HOME/task-cache/
    ├── <hash>/<category>/<slug>/   one task version, unpacked and verified; never edited
    ├── .staging/                   versions being unpacked (renamed into place whole)
    └── .locks/<hash>.lock          one host-wide lock per version: concurrent cells fetch it once

A version present and still hashing to its name is used. An absent one is copied from the host's
own tasks folder when that folder holds the same content, else fetched from the result store
(``cab_core.store.task_bundles``) and unpacked with verification (``cab_core.task_bundle.unpack``).
A version whose folder no longer hashes to its name (edited or damaged on disk) is thrown away and
fetched again. No bundle, or one that does not verify: the cell fails (infra) with a one-line
reason, and never runs against other content. A cell without a hash (recorded before tasks
travelled by content) uses the host's tasks folder, as it always did.

Each version root (``<hash>/``) is itself a tasks root, so the scripted endpoint serves the exact
version of a cell from it (:meth:`TaskCache.version_root`).
"""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import structlog

from cab_core.errors import InfraError, TaskError
from cab_core.paths import CabHome, TaskPaths
from cab_core.schema import CellSpec
from cab_core.store import ResultStore, task_bundles
from cab_core.store.task_bundles import Bundle
from cab_core.task_bundle import content_hash, is_hash, pack, short, unpack
from cab_scheduler.catalog import TaskCatalog

log = structlog.get_logger(__name__)

FOLDER = "task-cache"
"""The cache's folder under ``CAB_HOME``."""

Fetch = Callable[[str], Bundle | None]
"""task hash -> its stored bundle (None when the store has none)."""


class TaskCache:
    """Task folders by content hash on this host; safe to share between threads and processes."""

    def __init__(self, root: Path, local: TaskCatalog, fetch: Fetch) -> None:
        """``local``: the host's own tasks folder (legacy cells, and a source of versions it holds);
        ``fetch``: reads a bundle from the result store."""
        self.root = Path(root)
        self.local = local
        self.fetch = fetch

    @classmethod
    def under(cls, home: CabHome, local: TaskCatalog, fetch: Fetch) -> TaskCache:
        return cls(home.root / FOLDER, local, fetch)

    def version_root(self, task_hash: str) -> Path:
        """The tasks root holding version ``task_hash`` (``<root>/<hash>``; TaskError for a non-hash)."""
        if not is_hash(task_hash):
            raise TaskError(f"task hash {task_hash[:80]!r} is not a content hash")
        return self.root / task_hash

    def paths(self, cell: CellSpec) -> TaskPaths:
        """The folder of the cell's task version, present and verified; see the module docstring."""
        task_id = cell.task.task_id
        if not cell.task_hash:
            return self.local.paths(task_id)
        dest = TaskPaths(self.version_root(cell.task_hash) / task_id)
        with self._locked(cell.task_hash):
            if self._verified(dest, cell.task_hash):
                return dest
            self._discard(cell.task_hash)
            data = self._from_local(task_id, cell.task_hash) or self._from_store(task_id, cell.task_hash)
            self._install(data, task_id, cell.task_hash)
        log.info("task_version_cached", task_id=task_id, task_hash=short(cell.task_hash))
        return dest

    # -- sources --------------------------------------------------------------------------

    def _from_local(self, task_id: str, task_hash: str) -> bytes | None:
        """The bundle of the host's own folder of ``task_id`` when it holds that version, else None."""
        try:
            root = self.local.paths(task_id).root
            got, data = pack(root)
        except TaskError:
            return None
        return data if got == task_hash else None

    def _from_store(self, task_id: str, task_hash: str) -> bytes:
        bundle = self.fetch(task_hash)
        if bundle is None:
            raise InfraError(
                f"task {task_id} version {short(task_hash)} is not on this host and has no bundle in the "
                "result store; resubmit the sweep from a machine that has the task"
            )
        if bundle.task_id != task_id:
            raise TaskError(
                f"task bundle {short(task_hash)} holds {bundle.task_id}, not {task_id}; refusing to run"
            )
        return bundle.data

    # -- on disk --------------------------------------------------------------------------

    def _verified(self, dest: TaskPaths, task_hash: str) -> bool:
        if not dest.root.is_dir():
            return False
        try:
            got = content_hash(dest.root)
        except TaskError:
            got = ""
        if got == task_hash:
            return True
        log.warning("task_cache_tampered", path=str(dest.root), want=short(task_hash), got=short(got))
        return False

    def _discard(self, task_hash: str) -> None:
        """Remove whatever is at the version's place (a damaged or partial copy), out of the way first."""
        place = self.root / task_hash
        if not place.exists():
            return
        trash = self.root / ".staging" / f"discard-{task_hash}-{secrets.token_hex(4)}"
        trash.parent.mkdir(parents=True, exist_ok=True)
        place.rename(trash)
        shutil.rmtree(trash, ignore_errors=True)

    def _install(self, data: bytes, task_id: str, task_hash: str) -> None:
        """Unpack ``data`` (verified against ``task_hash``) and rename the whole version into place."""
        staging = self.root / ".staging" / f"{task_hash}-{secrets.token_hex(4)}"
        try:
            unpack(data, staging / task_id, task_hash)
            staging.rename(self.root / task_hash)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    @contextmanager
    def _locked(self, task_hash: str) -> Iterator[None]:
        """Hold the version's host-wide lock (flock: between threads and worker processes alike)."""
        locks = self.root / ".locks"
        locks.mkdir(parents=True, exist_ok=True)
        fd = os.open(locks / f"{task_hash}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock


class StoreFetch:
    """``Fetch`` from the result store at ``url``, connected on the first version this host lacks."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._store: ResultStore | None = None

    def __call__(self, task_hash: str) -> Bundle | None:
        if self._store is None:
            self._store = ResultStore(self.url)
        return task_bundles.load(self._store, task_hash)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
