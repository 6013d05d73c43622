"""Building cab's images from ``images/<name>/Dockerfile``, offline-capable.

Tags are content-addressed: ``<prefix>/<name>:<hash12>`` where the hash covers the image's build
folder, its extra context sources and its parent's tag, so a rebuild happens exactly when something
changed and reruns are no-ops. ``:latest`` is moved along for humans. What goes into a build context
(and so into the hash) is ``build_context.py``; this module talks to Docker. Images in
:data:`BUILD_ORDER` are built by default; those in :data:`EXTRA` only when named.

Dockerfiles stay conventional (``FROM debian:trixie-slim``); when that tag is absent and cannot be
pulled, it is created locally from a Debian rootfs (mmdebstrap + import), using the host's own apt
sources.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docker  # noqa: TID251 - image building is sandbox territory
import docker.errors  # noqa: TID251

from cab_core.errors import ImageError
from cab_workers.host.build_context import EXTRA_CONTEXT, Root, context_tar, hash_files
from cab_workers.host.sandbox import LABEL_MANAGED, Sandbox

Progress = Callable[[str], None]

BUILD_ORDER = ("base", "reference")
"""Images cab builds by default, parents first. ``base`` is also the scorer image."""

EXTRA = ("worker",)
"""Images built only when named (``cab images build worker``); ``cab images list`` shows them too.
Every other ``images/<name>/`` (the TUIs: opencode, aider, ...) is built by name or when a sweep
first needs it; see :meth:`ImageBuilder.names`."""

_FROM = re.compile(r"^\s*FROM\s+(\S+)", re.IGNORECASE | re.MULTILINE)
_ARG_BASE = re.compile(r"^\s*ARG\s+BASE\b", re.MULTILINE)
_ARG_VERSION = re.compile(r"^\s*ARG\s+VERSION=(\S+)", re.MULTILINE)


@dataclass(frozen=True)
class ImageRef:
    name: str
    tag: str
    """Content-addressed tag, e.g. ``cab/reference:3f2a9c1b0d4e``."""
    built: bool
    image_id: str | None


class ImageBuilder:
    """Resolves and builds the image family under ``images_dir``."""

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
    ) -> None:
        """``tasks_dir`` and ``source_dir`` (default: the checkout this module lives in) feed
        :data:`EXTRA_CONTEXT`; ``wheelhouse`` is a folder of dependency wheels added to ``dist/``."""
        self.sandbox = sandbox
        self.images_dir = images_dir
        self.prefix = prefix
        self.ca_bundle = ca_bundle
        self.tasks_dir = tasks_dir
        self.source_dir = source_dir or Path(__file__).resolve().parents[2]
        self.wheelhouse = wheelhouse
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

    def tag(self, name: str) -> str:
        """``<prefix>/<name>:<hash12>`` over the parent's tag, the folder and the extra sources."""
        parent = self.parent(name)
        h = hashlib.sha256((self.tag(parent) if parent else "").encode())
        hash_files(h, self.folder(name))
        for entry in EXTRA_CONTEXT.get(name, ()):
            h.update(b"\0extra\0" + entry.arcname.encode() + b"\0")
            hash_files(h, self.root(name, entry.root), entry.paths)
        return f"{self.prefix}/{name}:{h.hexdigest()[:12]}"

    def ref(self, name: str) -> ImageRef:
        tag = self.tag(name)
        image_id = self.sandbox.image_id(tag)
        return ImageRef(name=name, tag=tag, built=image_id is not None, image_id=image_id)

    def os_base(self, name: str) -> str | None:
        """The non-cab ``FROM`` of an image (e.g. ``debian:trixie-slim``), if any."""
        match = _FROM.search((self.folder(name) / "Dockerfile").read_text())
        if not match or "${" in match.group(1):
            return None
        return match.group(1)

    # -- building ------------------------------------------------------------------------------

    def ensure(self, names: list[str] | None = None, progress: Progress = lambda _: None) -> list[ImageRef]:
        """Build every missing image in ``names`` (and their parents), parents first."""
        wanted = list(names or BUILD_ORDER)
        order: list[str] = []
        for name in wanted:
            chain = [name]
            while (p := self.parent(chain[-1])) is not None:
                chain.append(p)
            for n in reversed(chain):
                if n not in order:
                    order.append(n)
        refs = []
        for name in order:
            ref = self.ref(name)
            if not ref.built:
                os_base = self.os_base(name)
                if os_base:
                    ensure_os_base(self.sandbox, os_base, progress)
                self._build(name, ref.tag, progress)
                # The tag built, not a recomputed one: sources may change while a build runs.
                ref = ImageRef(name=name, tag=ref.tag, built=True, image_id=self.sandbox.image_id(ref.tag))
            else:
                progress(f"{name}: up to date ({ref.tag})")
            refs.append(ref)
        return refs

    def _context(self, name: str) -> io.BytesIO:
        extras = [(entry, self.root(name, entry.root)) for entry in EXTRA_CONTEXT.get(name, ())]
        return context_tar(
            name, self.folder(name), extras, ca_bundle=self.ca_bundle, wheelhouse=self.wheelhouse
        )

    def _build(self, name: str, tag: str, progress: Progress) -> None:
        progress(f"{name}: building {tag}")
        parent = self.parent(name)
        buildargs = {"BASE": self.tag(parent)} if parent else {}
        api = self.sandbox.client.api
        try:
            for line in api.build(
                fileobj=self._context(name),
                custom_context=True,
                tag=tag,
                rm=True,
                forcerm=True,
                buildargs=buildargs,
                decode=True,
                labels={LABEL_MANAGED: "1", "cab.image": name},
            ):
                if "error" in line:
                    raise ImageError(f"building {name} failed: {line['error'].strip()}")
                text = str(line.get("stream", "")).strip()
                if text:
                    progress(f"{name}: {text[:160]}")
        except docker.errors.APIError as e:
            raise ImageError(f"building {name} failed: {e.explanation or e}") from e
        self.sandbox.client.images.get(tag).tag(f"{self.prefix}/{name}", "latest")
        progress(f"{name}: built {tag}")


def _host_sources(suite: str) -> str:
    """An apt sources spec for ``suite`` taken from the host's own configuration."""
    candidates = [Path("/etc/apt/sources.list.d/debian.sources"), Path("/etc/apt/sources.list")]
    for path in candidates:
        if path.is_file():
            text = path.read_text()
            uris = re.findall(r"^URIs:\s*(\S+)", text, re.MULTILINE) or re.findall(
                r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)", text, re.MULTILINE
            )
            if uris:
                return f"deb {uris[0]} {suite} main"
    raise ImageError(
        "no apt sources on this host to build a Debian rootfs from; "
        "pull the base image on a machine with a registry and `docker load` it"
    )


def ensure_os_base(sandbox: Sandbox, tag: str, progress: Progress) -> None:
    """Make sure ``tag`` (e.g. ``debian:trixie-slim``) exists: pull it, else build it offline."""
    if sandbox.image_id(tag):
        return
    progress(f"{tag}: pulling")
    try:
        repo, _, version = tag.partition(":")
        sandbox.client.images.pull(repo, tag=version or "latest")
        return
    except docker.errors.APIError as e:
        progress(f"{tag}: pull failed ({str(e.explanation or e)[:80]}); building it from a Debian rootfs")
    repo, _, version = tag.partition(":")
    if repo not in ("debian", "library/debian"):
        raise ImageError(f"cannot pull {tag} and can only build debian:* offline; load it with `docker load`")
    suite = version.removesuffix("-slim") or "stable"
    if shutil.which("mmdebstrap") is None:
        if os.geteuid() == 0 and shutil.which("apt-get"):
            progress("installing mmdebstrap")
            subprocess.run(
                ["apt-get", "install", "-y", "-q", "mmdebstrap"],
                check=True,
                stdout=subprocess.DEVNULL,
                env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            )
        else:
            raise ImageError(
                f"cannot pull {tag} and mmdebstrap is missing: `apt-get install mmdebstrap` as root"
            )
    with tempfile.TemporaryDirectory(prefix="cab-rootfs-") as tmp:
        rootfs = Path(tmp) / "rootfs.tar"
        sources = Path(tmp) / "sources.list"
        sources.write_text(_host_sources(suite) + "\n")
        cmd = ["mmdebstrap", "--variant=apt", "--quiet", suite, str(rootfs), str(sources)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise ImageError(f"mmdebstrap {suite} failed: {done.stderr.strip().splitlines()[-1:]}")
        progress(f"{tag}: importing rootfs")
        with rootfs.open("rb") as fp:
            sandbox.client.api.import_image_from_data(
                fp,
                repository=repo,
                tag=version,
                changes=[
                    'CMD ["bash"]',
                    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                ],
            )
    if not sandbox.image_id(tag):
        raise ImageError(f"importing {tag} did not produce the tag")
    progress(f"{tag}: created locally")


def describe(builder: ImageBuilder) -> list[dict[str, str | None]]:
    """Rows for ``cab images list``: name, pinned version, tag, built, image id (the digest a cell
    records), and whether a bare build makes it."""
    rows = []
    for name in builder.names():
        ref = builder.ref(name)
        rows.append(
            {
                "name": name,
                "version": builder.version(name),
                "tag": ref.tag,
                "built": json.dumps(ref.built),
                "image_id": ref.image_id,
                "default": json.dumps(name in BUILD_ORDER),
            }
        )
    return rows
