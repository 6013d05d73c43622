"""An image's build context as a tar, and the content hash over the same sources (no Docker here).

Build context = the image folder + ``ca/`` (``ca/extra.crt`` holds the optional extra CA bundle
for pip/npm/apt behind a TLS-intercepting proxy) + the image's entries in :data:`EXTRA_CONTEXT`
(the ``worker`` image also gets cab's wheel, the task catalog and this images tree)::

    .                 images/<name>/ (Dockerfile, ...)
    ca/extra.crt      optional
    dist/cab-*.whl    worker: ``pip wheel --no-deps`` of the checkout, plus any --wheelhouse wheels
    share/tasks/      worker: the task catalog (settings.tasks_dir)
    share/images/     worker: the images tree, so tags computed inside match the host's

Every extra entry is hashed by its sources (never by built bytes such as the wheel's):
:func:`hash_files` feeds the content tag ``images.ImageBuilder.tag`` computes.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cab_core.errors import ImageError

PACKAGE_SOURCES = (
    "pyproject.toml",
    "cab_core",
    "cab_scheduler",
    "cab_workers",
    "cab_endpoint",
    "cab_site",
    "cab_cli",
)
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


def context_tar(
    image: str,
    folder: Path,
    extras: Sequence[tuple[ContextEntry, Path]],
    *,
    ca_bundle: Path | None,
    wheelhouse: Path | None,
) -> io.BytesIO:
    """The build context of ``image`` (from ``folder``), with its extra entries (each with the root
    it comes from) and ``ca/``, as an uncompressed tar, rewound."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(folder, arcname=".", filter=_skip_caches)
        for entry, root in extras:
            _add_entry(tar, image, entry, root, wheelhouse)
        info = tarfile.TarInfo("ca")
        info.type, info.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(info)
        if ca_bundle is not None:
            data = ca_bundle.read_bytes()
            crt = tarfile.TarInfo("ca/extra.crt")
            crt.size, crt.mode = len(data), 0o644
            tar.addfile(crt, io.BytesIO(data))
    buf.seek(0)
    return buf


def _add_entry(
    tar: tarfile.TarFile, image: str, entry: ContextEntry, root: Path, wheelhouse: Path | None
) -> None:
    if not entry.wheel:
        if not root.is_dir():
            raise ImageError(f"image {image!r} needs {root} for {entry.arcname}/, which is not a folder")
        for path, rel in files(root, entry.paths):
            tar.add(path, arcname=f"{entry.arcname}/{rel}", recursive=False)
        return
    with tempfile.TemporaryDirectory(prefix="cab-dist-") as tmp:
        out = Path(tmp)
        build_wheel(root, entry.paths, out)
        wheels = sorted(out.glob("*.whl"))
        if wheelhouse is not None:
            wheels += sorted(wheelhouse.glob("*.whl"))
        for wheel in wheels:
            tar.add(wheel, arcname=f"{entry.arcname}/{wheel.name}", recursive=False)


def ignored(rel: Path) -> bool:
    return rel.suffix == ".pyc" or any(part in _IGNORED_PARTS for part in rel.parts)


def files(root: Path, paths: tuple[str, ...] = ()) -> Iterator[tuple[Path, str]]:
    """(file, path relative to ``root``) under ``root`` or only its ``paths``, sorted, caches left out."""
    found: list[Path] = []
    for top in [root / p for p in paths] if paths else [root]:
        if top.is_file():
            found.append(top)
        elif top.is_dir():
            found.extend(p for p in top.rglob("*") if p.is_file() and not ignored(p.relative_to(root)))
    for p in sorted(found):
        yield p, p.relative_to(root).as_posix()


def hash_files(h: hashlib._Hash, root: Path, paths: tuple[str, ...] = ()) -> None:
    for p, rel in files(root, paths):
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


def _skip_caches(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    return None if ignored(Path(info.name)) else info
