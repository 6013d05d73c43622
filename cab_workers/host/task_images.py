"""Per-task environment images: their content tags, the host's build lock, and their listing (no Docker).

A task that carries ``environment/Dockerfile`` (``ARG BASE`` / ``FROM ${BASE}``, see
``cab_core.paths.TaskPaths``) runs in its own image, and the agent of its cells in a TUI layer on
top of that image::

    <prefix>/base:<h>                          the shared toolchain (images/base)
    └── <prefix>/task-<category>.<slug>:<h>    BASE=<base tag>, context environment/; the scorer's image
        └── <prefix>/<tui>:<h>                 BASE=<task image tag>, context images/<tui>/; the agent's

Each ``<h>`` is 12 hex digits of a sha256 over the parent's tag and the files of the build folder,
so an image is rebuilt exactly when its folder or anything under it changed, on any host. A TUI
layered on a task image shares its repository with the TUI's own image (another hash), and
``:latest`` never moves for it.

``images.ImageBuilder`` talks to Docker; this module decides, without Docker: the names, and how
an image is obtained (:func:`obtain`, for every image cab makes): present; else, holding the host's
build lock (:class:`BuildLocks`: threads of one process and processes sharing ``$CAB_HOME``),
present after all (another cell built it meanwhile), pulled from the registry
(``CAB_IMAGE_REGISTRY``), or built and then pushed there.
"""

from __future__ import annotations

import fcntl
import hashlib
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import yaml

from cab_core.errors import ImageError
from cab_core.paths import TaskPaths
from cab_workers.host.build_context import hash_files

TAG_HASH_LEN = 12
"""Hex digits of the content hash in a tag."""

Progress = Callable[[str], None]
Source = Literal["cached", "built", "pulled"]
"""How an image was obtained: already there (or built meanwhile by another cell of this host), built
here, or pulled from the registry."""


@dataclass(frozen=True)
class TaskImageName:
    """Where a task's environment image lives, before anything is built."""

    task_id: str
    """``category/slug``, as the ``cab.task`` label records it."""
    repo: str
    """``<prefix>/task-<category>.<slug>``."""
    tag: str
    """``<repo>:<hash12>``."""

    @property
    def name(self) -> str:
        """The repository's last part (``task-<category>.<slug>``), the ``cab.image`` label."""
        return self.repo.rsplit("/", 1)[-1]


def task_id_of(paths: TaskPaths) -> str:
    """``category/slug`` from the task's ``task.yaml``, else from its folder names (a task bundle
    unpacked under a content hash keeps its spec, not its place in a catalogue)."""
    try:
        spec = yaml.safe_load(paths.spec.read_text())
        return f"{spec['category']}/{spec['slug']}"
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return f"{paths.root.parent.name}/{paths.root.name}"


def _repo_part(text: str) -> str:
    """A Docker repository path component: lowercase, ``[a-z0-9]`` runs joined by ``.``, ``_``, ``-``."""
    return re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("._-") or "x"


def content_tag(repo: str, parent_tag: str, folder: Path) -> str:
    """``<repo>:<hash12>`` over ``parent_tag`` and every file under ``folder`` (caches left out)."""
    h = hashlib.sha256(parent_tag.encode())
    hash_files(h, folder)
    return f"{repo}:{h.hexdigest()[:TAG_HASH_LEN]}"


def task_image_name(prefix: str, paths: TaskPaths, base_tag: str) -> TaskImageName:
    """The content-addressed name of ``paths``' environment image built on ``base_tag``."""
    task_id = task_id_of(paths)
    category, _, slug = task_id.partition("/")
    repo = f"{prefix}/task-{_repo_part(category)}.{_repo_part(slug)}"
    return TaskImageName(task_id=task_id, repo=repo, tag=content_tag(repo, base_tag, paths.environment))


def lock_file_name(tag: str) -> str:
    """A file name for ``tag``'s build lock (``cab/task-a.b:0123`` -> ``cab_task-a.b_0123.lock``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", tag) + ".lock"


class BuildLocks:
    """One build of an image tag at a time on this host.

    An in-process lock per tag serialises the cells (threads) of one process; an exclusive
    ``flock`` on ``<lock_dir>/<tag>.lock`` serialises the processes that share ``lock_dir``
    (``$CAB_HOME/locks``: the worker processes of a host). The holder re-checks that the image is
    still missing before it builds: a waiter usually finds it built. Without ``lock_dir`` only the
    threads of this process are serialised."""

    def __init__(self, lock_dir: Path | None) -> None:
        self.lock_dir = lock_dir
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    @contextmanager
    def hold(self, tag: str) -> Iterator[None]:
        """Hold ``tag``'s lock for the block, waiting as long as another build holds it."""
        with self._guard:
            local = self._locks.setdefault(tag, threading.Lock())
        with local:
            if self.lock_dir is None:
                yield
                return
            self.lock_dir.mkdir(parents=True, exist_ok=True)
            with (self.lock_dir / lock_file_name(tag)).open("a") as fp:
                fcntl.flock(fp, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(fp, fcntl.LOCK_UN)


def environment_tasks(tasks_dir: Path) -> list[TaskPaths]:
    """Every task under ``tasks_dir`` (``<category>/<slug>/``) that carries an environment, sorted."""
    found = (TaskPaths(spec.parent) for spec in sorted(tasks_dir.glob("*/*/task.yaml")))
    return [paths for paths in found if paths.has_environment]


class Engine(Protocol):
    """What :func:`obtain` needs from the Docker side (``images.ImageBuilder``)."""

    locks: BuildLocks

    def image_id(self, tag: str) -> str | None: ...
    def pull(self, tag: str, progress: Progress) -> bool: ...
    def push(self, tag: str, progress: Progress) -> None: ...


@dataclass(frozen=True)
class ImageRef:
    """An image of cab's (``images.ImageBuilder``), by its content tag."""

    name: str
    tag: str
    """Content-addressed tag, e.g. ``cab/reference:3f2a9c1b0d4e``."""
    built: bool
    """The tag exists on this host."""
    image_id: str | None
    source: Source = "cached"
    """How the call that returned it got it."""
    build_s: float = 0.0
    """Seconds that call spent getting it: waiting for the build lock, pulling, building (0 when present)."""


def obtain(engine: Engine, name: str, tag: str, build: Callable[[], None], progress: Progress) -> ImageRef:
    """Make ``tag`` (image ``name``) exist on this host, built at most once per host (see the module doc)."""
    t0 = time.monotonic()
    image_id = engine.image_id(tag)
    if image_id is not None:
        return ImageRef(name, tag, True, image_id)
    source: Source = "cached"
    with engine.locks.hold(tag):
        if engine.image_id(tag) is None:  # the lock's holder before us may have built it
            if engine.pull(tag, progress):
                source = "pulled"
            else:
                build()
                source = "built"
                engine.push(tag, progress)
    image_id = engine.image_id(tag)
    if image_id is None:
        raise ImageError(f"{tag} is missing right after it was {source}")
    return ImageRef(name, tag, True, image_id, source, round(time.monotonic() - t0, 3))


def remote_ref(registry: str, tag: str) -> tuple[str, str]:
    """(repository, version) of ``tag`` in ``registry``: ``<registry>/<prefix>/<name>``, ``<hash>``."""
    repo, _, version = f"{registry}/{tag}".rpartition(":")
    return repo, version


def build_failure(name: str, error: str, tail: Sequence[str]) -> str:
    """A failed build's message: the error, then the last lines of its log (``tail``)."""
    lines = "\n".join(tail)
    return f"building {name} failed: {error.strip()}\nlast {len(tail)} lines of the build log:\n{lines}"
