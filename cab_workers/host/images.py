"""Building cab's images from ``images/<name>/Dockerfile``, offline-capable.

Tags are content-addressed: ``<prefix>/<name>:<hash12>`` where the hash covers the image's build
folder and its parent's tag, so a rebuild happens exactly when something changed and reruns are
no-ops. ``:latest`` is moved along for humans.

Build context = the image folder + ``ca/`` (``ca/extra.crt`` holds the optional extra CA bundle
for pip/npm/apt behind a TLS-intercepting proxy) + the image's entries in :data:`EXTRA_CONTEXT`
(the ``worker`` image also gets cab's wheel, the task catalog and this images tree)::

    .                 images/<name>/ (Dockerfile, ...)
    ca/extra.crt      optional
    dist/cab-*.whl    worker: ``pip wheel --no-deps`` of the checkout, plus any --wheelhouse wheels
    share/tasks/      worker: the task catalog (settings.tasks_dir)
    share/images/     worker: the images tree, so tags computed inside match the host's

Every extra entry is hashed by its sources (never by built bytes such as the wheel's). Images in
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
import sys
import tarfile
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import docker  # noqa: TID251 - image building is sandbox territory
import docker.errors  # noqa: TID251

from cab_core.errors import ImageError
from cab_workers.host.sandbox import LABEL_MANAGED, Sandbox

Progress = Callable[[str], None]

BUILD_ORDER = ("base", "reference")
"""Images cab builds by default, parents first. ``base`` is also the scorer image."""

EXTRA = ("worker",)
"""Images built only when named (``cab images build worker``); ``cab images list`` shows them too.
Every other ``images/<name>/`` (the TUIs: opencode, aider, ...) is built by name or when a sweep
first needs it; see :meth:`ImageBuilder.names`."""

PACKAGE_SOURCES = ("pyproject.toml", "cab_core", "cab_scheduler", "cab_workers", "cab_endpoint", "cab_cli")
"""What of a cab checkout makes its wheel (and so the worker's content tag)."""

Root = Literal["source", "tasks", "images"]

_IGNORED_PARTS = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"})


@dataclass(frozen=True)
class ContextEntry:
    """One entry of an image's build context besides its folder and ``ca/``."""

    arcname: str
    """Where it lands in the build context, e.g. ``share/tasks``."""
    root: Root
    """The tree it comes from: cab's source checkout, the task catalog or the images tree."""
    paths: tuple[str, ...] = ()
    """Parts of ``root`` that are hashed (and copied); empty means all of it."""
    wheel: bool = False
    """Put ``pip wheel --no-deps`` of ``root`` in ``arcname`` instead of a copy; the content tag
    still covers ``paths`` (the sources), never the wheel's bytes."""


EXTRA_CONTEXT: dict[str, tuple[ContextEntry, ...]] = {
    "worker": (
        ContextEntry("dist", "source", PACKAGE_SOURCES, wheel=True),
        ContextEntry("share/tasks", "tasks"),
        ContextEntry("share/images", "images"),
    ),
}
"""Extra build context per image; images not listed get their folder and ``ca/`` only."""

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


def _ignored(rel: Path) -> bool:
    return rel.suffix == ".pyc" or any(part in _IGNORED_PARTS for part in rel.parts)


def _files(root: Path, paths: tuple[str, ...] = ()) -> Iterator[tuple[Path, str]]:
    """(file, path relative to ``root``) under ``root`` or only its ``paths``, sorted, caches left out."""
    found: list[Path] = []
    for top in [root / p for p in paths] if paths else [root]:
        if top.is_file():
            found.append(top)
        elif top.is_dir():
            found.extend(p for p in top.rglob("*") if p.is_file() and not _ignored(p.relative_to(root)))
    for p in sorted(found):
        yield p, p.relative_to(root).as_posix()


def _hash_files(h: hashlib._Hash, root: Path, paths: tuple[str, ...] = ()) -> None:
    for p, rel in _files(root, paths):
        h.update(rel.encode() + b"\0")
        h.update(p.read_bytes() + b"\0")


def build_wheel(source: Path, paths: tuple[str, ...], out: Path) -> None:
    """``pip wheel --no-deps`` of the checkout at ``source`` into ``out``, built from a copy of
    ``paths`` (and the readme the metadata names), so the checkout gets no build/ or egg-info."""
    pyproject = source / "pyproject.toml"
    if not pyproject.is_file():
        raise ImageError(
            f"{source} is not a cab source checkout (no pyproject.toml); build the worker image there"
        )
    readme = tomllib.loads(pyproject.read_text()).get("project", {}).get("readme")
    with tempfile.TemporaryDirectory(prefix="cab-wheel-") as tmp:
        src = Path(tmp) / "src"
        for rel in (*paths, *([readme] if isinstance(readme, str) else [])):
            if (source / rel).is_dir():
                shutil.copytree(
                    source / rel, src / rel, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
                )
            elif (source / rel).is_file():
                (src / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source / rel, src / rel)
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "--wheel-dir",
            str(out),
            str(src),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        raise ImageError(f"pip wheel of {source} failed: {tail}")


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
        _hash_files(h, self.folder(name))
        for entry in EXTRA_CONTEXT.get(name, ()):
            h.update(b"\0extra\0" + entry.arcname.encode() + b"\0")
            _hash_files(h, self.root(name, entry.root), entry.paths)
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
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            tar.add(self.folder(name), arcname=".", filter=_skip_caches)
            for entry in EXTRA_CONTEXT.get(name, ()):
                self._add_entry(tar, name, entry)
            info = tarfile.TarInfo("ca")
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
            if self.ca_bundle is not None:
                data = self.ca_bundle.read_bytes()
                crt = tarfile.TarInfo("ca/extra.crt")
                crt.size, crt.mode = len(data), 0o644
                tar.addfile(crt, io.BytesIO(data))
        buf.seek(0)
        return buf

    def _add_entry(self, tar: tarfile.TarFile, name: str, entry: ContextEntry) -> None:
        root = self.root(name, entry.root)
        if not entry.wheel:
            if not root.is_dir():
                raise ImageError(f"image {name!r} needs {root} for {entry.arcname}/, which is not a folder")
            for path, rel in _files(root, entry.paths):
                tar.add(path, arcname=f"{entry.arcname}/{rel}", recursive=False)
            return
        with tempfile.TemporaryDirectory(prefix="cab-dist-") as tmp:
            out = Path(tmp)
            build_wheel(root, entry.paths, out)
            wheels = sorted(out.glob("*.whl"))
            if self.wheelhouse is not None:
                wheels += sorted(self.wheelhouse.glob("*.whl"))
            for wheel in wheels:
                tar.add(wheel, arcname=f"{entry.arcname}/{wheel.name}", recursive=False)

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


def _skip_caches(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    return None if _ignored(Path(info.name)) else info


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
