"""Building cab's images from ``images/<name>/Dockerfile`` and the tasks' environments, offline-capable.

Tags are content-addressed: ``<prefix>/<name>:<hash12>`` where the hash covers the image's build
folder, its extra context sources and its parent's tag, so a rebuild happens exactly when something
changed and reruns are no-ops. ``:latest`` is moved along for humans. What goes into a build context
(and so into the hash) is ``build_context.py``; task environment images, a TUI layered on one, how
an image is obtained (build lock, registry) are ``task_images.py``; this module talks to Docker.
Images in :data:`BUILD_ORDER` are built by default; those in :data:`EXTRA` only when named.

Dockerfiles stay conventional (``FROM debian:trixie-slim``); when that tag is absent and cannot be
pulled, it is created locally from a Debian rootfs (``rootfs.py``: mmdebstrap + import), using the
host's own apt sources.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import io
import json
import re
from collections.abc import Callable
from pathlib import Path

import docker  # noqa: TID251 - image building is sandbox territory
import docker.errors  # noqa: TID251

from cab_core.errors import ImageError
from cab_core.paths import TaskPaths
from cab_workers.host.build_context import EXTRA_CONTEXT, Root, context_tar, hash_files
from cab_workers.host.rootfs import debian_rootfs
from cab_workers.host.sandbox import LABEL_MANAGED, Sandbox
from cab_workers.host.task_images import (
    BuildLocks,
    ImageRef,
    build_failure,
    environment_tasks,
    obtain,
    remote_ref,
    task_image_name,
)

__all__ = ["BUILD_ORDER", "EXTRA", "ImageBuilder", "ImageRef", "Progress", "describe", "ensure_os_base"]

Progress = Callable[[str], None]

BUILD_ORDER = ("base", "reference")
"""Images cab builds by default, parents first. ``base`` is also the scorer image."""

EXTRA = ("worker",)
"""Images built only when named (``cab images build worker``); ``cab images list`` shows them too.
Every other ``images/<name>/`` (the TUIs: opencode, aider, ...) is built by name or when a sweep
first needs it; see :meth:`ImageBuilder.names`."""

LOG_TAIL_LINES = 15
"""Lines of the build log a failed build's ``ImageError`` carries."""

_FROM = re.compile(r"^\s*FROM\s+(\S+)", re.IGNORECASE | re.MULTILINE)
_ARG_BASE = re.compile(r"^\s*ARG\s+BASE\b", re.MULTILINE)
_ARG_VERSION = re.compile(r"^\s*ARG\s+VERSION=(\S+)", re.MULTILINE)


class ImageBuilder:
    """Resolves and builds the image family under ``images_dir`` and the tasks' environment images."""

    def __init__(
        self,
        sandbox: Sandbox,
        images_dir: Path,
        *,
        prefix: str = "cab",
        ca_bundle: Path | None = None,
        tasks_dir: Path | None = None,
        source_dir: Path | None = None,
        wheelhouse: Path | None = None,
        registry: str | None = None,
        lock_dir: Path | None = None,
    ) -> None:
        """``tasks_dir`` and ``source_dir`` (default: the checkout this module lives in) feed
        :data:`EXTRA_CONTEXT`; ``wheelhouse`` is a folder of dependency wheels added to ``dist/``.
        ``registry`` (``host[:port][/path]``, ``CAB_IMAGE_REGISTRY``): push what is built here and
        pull what is missing before building it. ``lock_dir`` (``$CAB_HOME/locks``): where the
        host's processes take their build locks."""
        self.sandbox = sandbox
        self.images_dir = images_dir
        self.prefix = prefix
        self.ca_bundle = ca_bundle
        self.tasks_dir = tasks_dir
        self.source_dir = source_dir or Path(__file__).resolve().parents[2]
        self.wheelhouse = wheelhouse
        self.registry = registry.strip().rstrip("/") if registry and registry.strip() else None
        self.locks = BuildLocks(lock_dir)
        if ca_bundle is not None and not ca_bundle.is_file():
            raise ImageError(f"CA bundle {ca_bundle} does not exist; pass --ca-bundle PATH to a PEM file")
        if wheelhouse is not None and not wheelhouse.is_dir():
            raise ImageError(f"wheelhouse {wheelhouse} is not a folder; pass --wheelhouse DIR of *.whl files")

    def names(self) -> list[str]:
        """Every image under ``images_dir``: the defaults, then the extras, then the TUIs by name."""
        found = sorted(p.parent.name for p in self.images_dir.glob("*/Dockerfile"))
        known = [*BUILD_ORDER, *EXTRA]
        return [n for n in known if n in found] + [n for n in found if n not in known]

    def version(self, name: str) -> str | None:
        """The pinned upstream version of an image (its Dockerfile's ``ARG VERSION=``), if it has one."""
        match = _ARG_VERSION.search((self.folder(name) / "Dockerfile").read_text())
        return match.group(1) if match else None

    def folder(self, name: str) -> Path:
        folder = self.images_dir / name
        if not (folder / "Dockerfile").is_file():
            raise ImageError(f"no image named {name!r}: {folder}/Dockerfile is missing")
        return folder

    def parent(self, name: str) -> str | None:
        """The cab image this one builds on (``ARG BASE``), or None for the root image."""
        text = (self.folder(name) / "Dockerfile").read_text()
        return "base" if _ARG_BASE.search(text) and name != "base" else None

    def root(self, name: str, root: Root) -> Path:
        """Where an extra context entry of image ``name`` comes from."""
        if root == "tasks":
            if self.tasks_dir is None:
                raise ImageError(f"image {name!r} carries the task catalog: give the builder tasks_dir")
            return self.tasks_dir
        return self.source_dir if root == "source" else self.images_dir

    def tag(self, name: str, parent_tag: str | None = None) -> str:
        """``<prefix>/<name>:<hash12>`` over the parent's tag, the folder and the extra sources;
        ``parent_tag`` puts it on another parent (a TUI on a task image) than its own."""
        parent = self.parent(name)
        if parent_tag is None and parent is not None:
            parent_tag = self.tag(parent)
        h = hashlib.sha256((parent_tag or "").encode())
        hash_files(h, self.folder(name))
        for entry in EXTRA_CONTEXT.get(name, ()):
            h.update(b"\0extra\0" + entry.arcname.encode() + b"\0")
            hash_files(h, self.root(name, entry.root), entry.paths)
        return f"{self.prefix}/{name}:{h.hexdigest()[:12]}"

    def image_id(self, tag: str) -> str | None:
        return self.sandbox.image_id(tag)

    def ref(self, name: str) -> ImageRef:
        tag = self.tag(name)
        image_id = self.sandbox.image_id(tag)
        return ImageRef(name=name, tag=tag, built=image_id is not None, image_id=image_id)

    def task_ref(self, task_paths: TaskPaths) -> ImageRef | None:
        """The task's environment image as it stands (nothing is built); None without an environment."""
        if not task_paths.has_environment:
            return None
        name = task_image_name(self.prefix, task_paths, self.tag("base"))
        image_id = self.sandbox.image_id(name.tag)
        return ImageRef(name=name.name, tag=name.tag, built=image_id is not None, image_id=image_id)

    def os_base(self, name: str) -> str | None:
        """The non-cab ``FROM`` of an image (e.g. ``debian:trixie-slim``), if any."""
        match = _FROM.search((self.folder(name) / "Dockerfile").read_text())
        if not match or "${" in match.group(1):
            return None
        return match.group(1)

    # -- obtaining (``task_images.obtain``: present, pulled, or built under the host's lock) ---------

    def ensure(self, names: list[str] | None = None, progress: Progress = lambda _: None) -> list[ImageRef]:
        """Obtain every missing image in ``names`` (and their parents), parents first."""
        order: list[str] = []
        for name in names or BUILD_ORDER:
            chain = [name]
            while (p := self.parent(chain[-1])) is not None:
                chain.append(p)
            order += [n for n in reversed(chain) if n not in order]
        refs = []
        for name in order:
            tag = self.tag(name)  # now, not later: sources may change while a build runs

            def build(name: str = name, tag: str = tag) -> None:
                if os_base := self.os_base(name):
                    ensure_os_base(self.sandbox, os_base, progress)
                parent = self.parent(name)
                args = {"BASE": self.tag(parent)} if parent else {}
                self.run_build(name, tag, self._context(name), args, {"cab.image": name}, progress)

            ref = obtain(self, name, tag, build, progress)
            if ref.source == "cached":
                progress(f"{name}: up to date ({tag})")
            else:
                self.sandbox.client.images.get(tag).tag(f"{self.prefix}/{name}", "latest")
            refs.append(ref)
        return refs

    def ensure_task_image(
        self, task_paths: TaskPaths, progress: Progress = lambda _: None
    ) -> ImageRef | None:
        """The task's environment image, obtained when missing (built on the base image, context
        ``environment/``); None when the task has no ``environment/Dockerfile``."""
        if not task_paths.has_environment:
            return None
        base = self.ref("base")
        base_tag = base.tag if base.built else self.ensure(["base"], progress)[-1].tag
        name = task_image_name(self.prefix, task_paths, base_tag)

        def build() -> None:
            context = context_tar(
                name.name, task_paths.environment, [], ca_bundle=self.ca_bundle, wheelhouse=None
            )
            labels = {"cab.image": name.name, "cab.task": name.task_id}
            self.run_build(name.name, name.tag, context, {"BASE": base_tag}, labels, progress)

        return obtain(self, name.name, name.tag, build, progress)

    def ensure_on(self, name: str, parent_tag: str, progress: Progress = lambda _: None) -> ImageRef:
        """Image ``name`` (a TUI) on ``parent_tag`` (a task image) instead of its own parent, obtained
        when missing; tagged ``<prefix>/<name>:<hash12>`` over ``parent_tag`` and the folder, and
        ``:latest`` stays where it is."""
        if self.parent(name) is None:
            raise ImageError(f"image {name!r} takes no ARG BASE: it cannot be built on {parent_tag}")
        tag = self.tag(name, parent_tag)

        def build() -> None:
            labels = {"cab.image": name, "cab.parent": parent_tag}
            self.run_build(name, tag, self._context(name), {"BASE": parent_tag}, labels, progress)

        return obtain(self, name, tag, build, progress)

    def _context(self, name: str) -> io.BytesIO:
        extras = [(entry, self.root(name, entry.root)) for entry in EXTRA_CONTEXT.get(name, ())]
        return context_tar(
            name, self.folder(name), extras, ca_bundle=self.ca_bundle, wheelhouse=self.wheelhouse
        )

    def run_build(
        self,
        name: str,
        tag: str,
        context: io.BytesIO,
        buildargs: dict[str, str],
        labels: dict[str, str],
        progress: Progress,
        *,
        nocache: bool = False,
    ) -> None:
        """``docker build`` of ``context`` as ``tag`` (``nocache``: every step runs, no layer reused);
        ImageError with the log's tail when it fails."""
        progress(f"{name}: building {tag}")
        tail: collections.deque[str] = collections.deque(maxlen=LOG_TAIL_LINES)
        try:
            for line in self.sandbox.client.api.build(
                fileobj=context,
                custom_context=True,
                tag=tag,
                rm=True,
                forcerm=True,
                nocache=nocache,
                buildargs=buildargs,
                decode=True,
                labels={LABEL_MANAGED: "1", **labels},
            ):
                if "error" in line:
                    raise ImageError(build_failure(name, str(line["error"]), tail))
                for text in str(line.get("stream", "")).splitlines():
                    if text.strip():
                        tail.append(text.rstrip()[:300])
                        progress(f"{name}: {text.strip()[:160]}")
        except docker.errors.APIError as e:
            raise ImageError(build_failure(name, str(e.explanation or e), tail)) from e
        progress(f"{name}: built {tag}")

    # -- the registry (CAB_IMAGE_REGISTRY) ----------------------------------------------------------

    def pull(self, tag: str, progress: Progress) -> bool:
        """Pull ``tag`` from the registry and tag it locally; False when there is no registry or the
        pull fails (then the caller builds)."""
        if self.registry is None:
            return False
        repo, version = remote_ref(self.registry, tag)
        progress(f"{tag}: pulling from {self.registry}")
        try:
            image = self.sandbox.client.images.pull(repo, tag=version)
        except docker.errors.DockerException as e:
            progress(f"{tag}: pull failed ({str(e)[:120]}); building it")
            return False
        local_repo, _, local_version = tag.rpartition(":")
        image.tag(local_repo, local_version)
        with contextlib.suppress(docker.errors.DockerException):
            self.sandbox.client.images.remove(f"{repo}:{version}")  # untag only: the local tag keeps it
        progress(f"{tag}: pulled from {self.registry}")
        return True

    def push(self, tag: str, progress: Progress) -> None:
        """Push ``tag`` to the registry, if there is one; a failed push is reported, never raised (the
        image exists on this host; other hosts build it themselves)."""
        if self.registry is None:
            return
        repo, version = remote_ref(self.registry, tag)
        client = self.sandbox.client
        progress(f"{tag}: pushing to {self.registry}")
        try:
            client.images.get(tag).tag(repo, version)
            for line in client.api.push(repo, tag=version, stream=True, decode=True):
                if "error" in line:
                    raise ImageError(str(line["error"]))
            progress(f"{tag}: pushed to {self.registry}")
        except (docker.errors.DockerException, ImageError) as e:
            progress(f"{tag}: push to {self.registry} failed ({str(e)[:160]}); kept on this host only")
        finally:
            with contextlib.suppress(docker.errors.DockerException):
                client.images.remove(f"{repo}:{version}")


def ensure_os_base(sandbox: Sandbox, tag: str, progress: Progress) -> None:
    """Make sure ``tag`` (e.g. ``debian:trixie-slim``) exists: pull it, else build it offline."""
    if sandbox.image_id(tag):
        return
    progress(f"{tag}: pulling")
    repo, _, version = tag.partition(":")
    try:
        sandbox.client.images.pull(repo, tag=version or "latest")
        return
    except docker.errors.APIError as e:
        progress(f"{tag}: pull failed ({str(e.explanation or e)[:80]}); building it from a Debian rootfs")
    with debian_rootfs(tag, progress) as rootfs, rootfs.open("rb") as fp:
        progress(f"{tag}: importing rootfs")
        sandbox.client.api.import_image_from_data(
            fp,
            repository=repo,
            tag=version,
            changes=['CMD ["bash"]', "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        )
    if not sandbox.image_id(tag):
        raise ImageError(f"importing {tag} did not produce the tag")
    progress(f"{tag}: created locally")


def describe(builder: ImageBuilder) -> list[dict[str, str | None]]:
    """Rows for ``cab images list``: name, pinned version, tag, built, image id (the digest a cell
    records), and which build makes it (``true``: a bare build; ``false``: by name; ``task``: a task's
    environment, ``cab images build --tasks``)."""
    found = [(builder.ref(n), json.dumps(n in BUILD_ORDER), builder.version(n)) for n in builder.names()]
    tasks = environment_tasks(builder.tasks_dir) if builder.tasks_dir else []
    found += [(ref, "task", None) for paths in tasks if (ref := builder.task_ref(paths)) is not None]
    keys = ("name", "version", "tag", "built", "image_id", "default")
    return [
        dict(zip(keys, (r.name, version, r.tag, json.dumps(r.built), r.image_id, default), strict=True))
        for r, default, version in found
    ]
