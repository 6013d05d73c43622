"""A Debian root filesystem made on this host (mmdebstrap), for when ``debian:<suite>`` cannot be pulled.

``images.ensure_os_base`` imports the tar this module makes as the image; no Docker here. The apt
sources are the host's own (``/etc/apt/sources.list.d/debian.sources`` or ``sources.list``), so a
host without a container registry but with a Debian mirror can still build cab's images.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from cab_core.errors import ImageError


def host_sources(suite: str) -> str:
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


@contextmanager
def debian_rootfs(tag: str, progress: Callable[[str], None]) -> Iterator[Path]:
    """A rootfs tar of the suite ``tag`` names (``debian:trixie-slim`` -> trixie), removed on exit."""
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
        sources.write_text(host_sources(suite) + "\n")
        # A mirror that serves a snapshot (or a host whose clock is ahead of it) has an expired Release
        # for the suites that carry Valid-Until (testing: forky); signatures are still checked. The
        # option stays in the image (/etc/apt/apt.conf.d/99mmdebstrap), so its own apt agrees.
        stale_ok = '--aptopt=Acquire::Check-Valid-Until "false"'
        cmd = ["mmdebstrap", "--variant=apt", "--quiet", stale_ok, suite, str(rootfs), str(sources)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise ImageError(f"mmdebstrap {suite} failed: {done.stderr.strip().splitlines()[-1:]}")
        yield rootfs
