"""Building cab's images from ``images/<name>/Dockerfile``, offline-capable.

Tags are content-addressed: ``<prefix>/<name>:<hash12>`` where the hash covers the image's build
folder and its parent's tag, so a rebuild happens exactly when something changed and reruns are
no-ops. ``:latest`` is moved along for humans.

Build context = the image folder + ``ca/`` (``ca/extra.crt`` holds the optional extra CA bundle
for pip/npm/apt behind a TLS-intercepting proxy). Dockerfiles stay conventional
(``FROM debian:bookworm-slim``); when that tag is absent and cannot be pulled, it is created
locally from a Debian rootfs (mmdebstrap + import), using the host's own apt sources.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docker  # noqa: TID251 - image building is sandbox territory
import docker.errors  # noqa: TID251

from cab_core.errors import ImageError
from cab_workers.sandbox import LABEL_MANAGED, Sandbox

Progress = Callable[[str], None]

BUILD_ORDER = ("base", "reference")
"""Images cab builds, parents first. ``base`` is also the scorer image."""

_FROM = re.compile(r"^\s*FROM\s+(\S+)", re.IGNORECASE | re.MULTILINE)
_ARG_BASE = re.compile(r"^\s*ARG\s+BASE\b", re.MULTILINE)


@dataclass(frozen=True)
class ImageRef:
    name: str
    tag: str
    """Content-addressed tag, e.g. ``cab/reference:3f2a9c1b0d4e``."""
    built: bool
    image_id: str | None


def _folder_hash(folder: Path, parent_tag: str | None) -> str:
    h = hashlib.sha256()
    h.update((parent_tag or "").encode())
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(folder).as_posix().encode() + b"\0")
            h.update(p.read_bytes() + b"\0")
    return h.hexdigest()[:12]


class ImageBuilder:
    """Resolves and builds the image family under ``images_dir``."""

    def __init__(
        self, sandbox: Sandbox, images_dir: Path, *, prefix: str = "cab", ca_bundle: Path | None = None
    ) -> None:
        self.sandbox = sandbox
        self.images_dir = images_dir
        self.prefix = prefix
        self.ca_bundle = ca_bundle
        if ca_bundle is not None and not ca_bundle.is_file():
            raise ImageError(f"CA bundle {ca_bundle} does not exist; pass --ca-bundle PATH to a PEM file")

    def folder(self, name: str) -> Path:
        folder = self.images_dir / name
        if not (folder / "Dockerfile").is_file():
            raise ImageError(f"no image named {name!r}: {folder}/Dockerfile is missing")
        return folder

    def parent(self, name: str) -> str | None:
        """The cab image this one builds on (``ARG BASE``), or None for the root image."""
        text = (self.folder(name) / "Dockerfile").read_text()
        return "base" if _ARG_BASE.search(text) and name != "base" else None

    def tag(self, name: str) -> str:
        parent = self.parent(name)
        parent_tag = self.tag(parent) if parent else None
        return f"{self.prefix}/{name}:{_folder_hash(self.folder(name), parent_tag)}"

    def ref(self, name: str) -> ImageRef:
        tag = self.tag(name)
        image_id = self.sandbox.image_id(tag)
        return ImageRef(name=name, tag=tag, built=image_id is not None, image_id=image_id)

    def os_base(self, name: str) -> str | None:
        """The non-cab ``FROM`` of an image (e.g. ``debian:bookworm-slim``), if any."""
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
                ref = self.ref(name)
            else:
                progress(f"{name}: up to date ({ref.tag})")
            refs.append(ref)
        return refs

    def _context(self, name: str) -> io.BytesIO:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            tar.add(self.folder(name), arcname=".")
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
    """Make sure ``tag`` (e.g. ``debian:bookworm-slim``) exists: pull it, else build it offline."""
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
    """Rows for ``cab images list``: name, tag, built, image id."""
    rows = []
    for name in BUILD_ORDER:
        ref = builder.ref(name)
        rows.append({"name": name, "tag": ref.tag, "built": json.dumps(ref.built), "image_id": ref.image_id})
    return rows
