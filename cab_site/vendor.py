"""Third-party browser assets, pinned and cached: the site ships no CDN links.

The cell pages play the agent's terminal recording with asciinema-player. Its browser bundle comes from npm
at a pinned version and is checked against the registry's sha512 integrity *before* anything is unpacked,
so a changed or tampered tarball never reaches a page. ``npm pack`` does the download (npm uses whatever
registry and proxy the machine has configured); the listed files plus the package's licence are unpacked
once into a cache folder that is swapped in whole with a rename, so concurrent builds either see the
complete folder or fetch their own copy::

    $CAB_HOME/vendor/
    └── asciinema-player-3.18.0/
        ├── LICENSE
        └── dist/bundle/asciinema-player.min.js, asciinema-player.css

``python -m cab_site.vendor`` prefetches into the default cache (``deploy/bootstrap.sh setup`` runs it).
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from cab_core.errors import CabError, InfraError

__all__ = [
    "LICENSE",
    "PLAYER",
    "PLAYER_CSS",
    "PLAYER_JS",
    "NpmAsset",
    "ensure",
    "extract",
    "player_assets",
    "sri_sha512",
    "verify",
]

LICENSE = "LICENSE"
"""Key of the package's licence file in :func:`ensure`'s answer (copied whatever the file's spelling)."""
_LICENSE_NAMES = ("LICENSE", "LICENSE.md", "LICENSE.txt", "LICENCE", "LICENCE.md")
_TOP = "package"
"""The folder every file of an npm tarball sits in."""
NPM_TIMEOUT_S = 300


def _is_safe(name: str) -> bool:
    """A relative name that stays inside its folder (no absolute path, no ``..``, no backslash)."""
    path = PurePosixPath(name)
    return bool(name) and not path.is_absolute() and ".." not in path.parts and "\\" not in name


@dataclass(frozen=True)
class NpmAsset:
    """One pinned npm package and the files of it the site needs."""

    package: str
    """The npm package name."""
    version: str
    """An exact version, never a range."""
    integrity: str
    """The registry's ``dist.integrity``: ``sha512-`` then the base64 digest of the tarball."""
    files: tuple[str, ...]
    """Paths inside the package (relative to its top folder) to unpack."""

    def __post_init__(self) -> None:
        if not self.integrity.startswith("sha512-"):
            raise ValueError(f"{self.package}: integrity must be a sha512 SRI string")
        for name in self.files:
            if not _is_safe(name):
                raise ValueError(f"{self.package}: unsafe file name {name!r}")

    @property
    def label(self) -> str:
        """``package version``, as messages name it."""
        return f"{self.package} {self.version}"

    @property
    def dirname(self) -> str:
        """The cache folder's name (a scope's ``@`` and ``/`` made filesystem-safe)."""
        return f"{self.package.lstrip('@').replace('/', '+')}-{self.version}"


PLAYER_JS = "dist/bundle/asciinema-player.min.js"
"""The standalone (IIFE) bundle: defines the global ``AsciinemaPlayer`` for a plain ``<script>`` tag."""
PLAYER_CSS = "dist/bundle/asciinema-player.css"
PLAYER = NpmAsset(
    package="asciinema-player",
    version="3.18.0",
    integrity="sha512-5gpt2ipFcy4NKmgkv+c/QXnJ9zMicxqWROCOuJqgwwtiYKM8Qe9hnDOvfqke5bW6M2DW/seO3uQYkQ0xeUUVtw==",
    files=(PLAYER_JS, PLAYER_CSS),
)


def sri_sha512(path: Path) -> str:
    """The subresource-integrity string npm records for the file at ``path``."""
    digest = hashlib.sha512()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return "sha512-" + base64.b64encode(digest.digest()).decode("ascii")


def _answer(asset: NpmAsset, root: Path) -> dict[str, Path]:
    return {**{name: root / name for name in asset.files}, LICENSE: root / LICENSE}


def _complete(paths: dict[str, Path]) -> bool:
    return all(p.is_file() for p in paths.values())


def ensure(asset: NpmAsset, cache_dir: Path) -> dict[str, Path]:
    """The asset's files (keys: ``asset.files`` and :data:`LICENSE`), fetched and verified when missing."""
    final = cache_dir / asset.dirname
    paths = _answer(asset, final)
    if _complete(paths):
        return paths
    if shutil.which("npm") is None:
        raise InfraError(
            f"{asset.label} is not cached in {cache_dir} and npm is not installed: "
            "install Node.js/npm or run deploy/bootstrap.sh setup"
        )
    cache_dir.mkdir(parents=True, exist_ok=True)
    if final.exists() and not _complete(paths):  # files deleted by hand: the folder is replaced whole
        _discard(final, cache_dir)
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".fetch-") as work:
        tarball = _npm_pack(asset, Path(work))
        staged = Path(work) / "staged"
        extract(tarball, asset, staged)
        try:
            staged.rename(final)
        except OSError:
            if not _complete(paths):  # not a concurrent caller that won the race: a real failure
                raise
    return paths


def _discard(folder: Path, cache_dir: Path) -> None:
    """Moves ``folder`` out of the way (atomically) and deletes it; fine if it is already gone."""
    trash = Path(tempfile.mkdtemp(dir=cache_dir, prefix=".trash-"))
    try:
        folder.rename(trash / "old")
    except FileNotFoundError:
        pass
    shutil.rmtree(trash, ignore_errors=True)


def _npm_pack(asset: NpmAsset, dest: Path) -> Path:
    """Downloads the tarball into ``dest`` and verifies it; a mismatching tarball is deleted."""
    spec = f"{asset.package}@{asset.version}"
    try:
        done = subprocess.run(
            ["npm", "pack", spec, "--pack-destination", str(dest)],
            cwd=dest,
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise InfraError(
            f"npm pack {spec} took over {NPM_TIMEOUT_S}s: check the network or npm's registry/proxy settings"
        ) from exc
    tarballs = sorted(dest.glob("*.tgz"))
    if done.returncode != 0 or len(tarballs) != 1:
        lines = [ln.strip() for ln in done.stderr.splitlines() if ln.strip()]
        reason = next((ln for ln in lines if "code E" in ln or "network" in ln.lower()), None)
        reason = reason or (lines[-1] if lines else f"exit status {done.returncode}")
        raise InfraError(
            f"could not fetch {asset.label} with npm ({reason}): check the network or npm's registry/proxy "
            "settings, then retry"
        )
    verify(tarballs[0], asset)
    return tarballs[0]


def verify(tarball: Path, asset: NpmAsset) -> None:
    """Refuses (and deletes) a tarball whose sha512 differs from the pinned integrity."""
    got = sri_sha512(tarball)
    if got != asset.integrity:
        tarball.unlink(missing_ok=True)
        raise InfraError(
            f"{asset.label}: the downloaded tarball does not match the pinned integrity "
            f"(expected {asset.integrity}, got {got}); refused it"
        )


def extract(tarball: Path, asset: NpmAsset, dest: Path) -> dict[str, Path]:
    """Unpacks the listed files and the licence of a *verified* tarball into ``dest`` (created).

    A tarball with any link, device, absolute name or ``..`` component is refused whole, before anything
    is written; ``filter="data"`` guards the writes as well.
    """
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            members = {m.name: m for m in tar.getmembers()}
            for member in members.values():
                if not _is_safe(member.name) or not (member.isfile() or member.isdir()):
                    raise InfraError(
                        f"{asset.label}: the tarball holds an unsafe entry {member.name!r}; refused it"
                    )
            licence = next((n for n in _LICENSE_NAMES if f"{_TOP}/{n}" in members), None)
            missing = [n for n in asset.files if f"{_TOP}/{n}" not in members]
            if missing or licence is None:
                raise InfraError(f"{asset.label}: the tarball lacks {', '.join(missing) or 'a LICENSE file'}")
            dest.mkdir(parents=True)
            scratch = Path(tempfile.mkdtemp(dir=dest.parent, prefix=".unpack-"))
            try:
                for name in (*asset.files, licence):
                    tar.extract(members[f"{_TOP}/{name}"], scratch, filter="data")
                for name in asset.files:
                    (dest / name).parent.mkdir(parents=True, exist_ok=True)
                    (scratch / _TOP / name).rename(dest / name)
                (scratch / _TOP / licence).rename(dest / LICENSE)
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
    except (tarfile.TarError, OSError) as exc:
        raise InfraError(f"{asset.label}: could not unpack {tarball.name} ({exc})") from exc
    return _answer(asset, dest)


def player_assets(cache_dir: Path) -> dict[str, Path]:
    """The pinned player's files by the names the pages link them under in ``assets/`` (its licence as
    ``asciinema-player.LICENSE``), fetched into ``cache_dir`` when missing."""
    kept = ensure(PLAYER, cache_dir).values()
    return {p.name if p.suffix else f"{PLAYER.package}.{p.name}": p for p in kept}


def main() -> int:
    """Prefetch into ``$CAB_HOME/vendor`` and print the folder."""
    from cab_core.settings import Settings

    try:
        paths = ensure(PLAYER, Settings().cab_home.vendor)
    except CabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(paths[LICENSE].parent)
    return 0


if __name__ == "__main__":
    sys.exit(main())
