"""The pinned npm assets: a tarball is checked before it is unpacked, unpacked safely, cached atomically."""

from __future__ import annotations

import io
import os
import shutil
import stat
import tarfile
import threading
from pathlib import Path

import pytest

from cab_core.errors import InfraError
from cab_site.vendor import LICENSE, PLAYER, PLAYER_CSS, PLAYER_JS, NpmAsset, ensure, extract, sri_sha512
from tests.conftest import require

unit = pytest.mark.unit

JS = b"var AsciinemaPlayer = {};\n"
CSS = b".ap-player {}\n"
LICENCE_TEXT = b"Apache License, Version 2.0\n"
GOOD_FILES = {"package/dist/p.js": JS, "package/dist/p.css": CSS, "package/LICENSE": LICENCE_TEXT}


def add_file(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def add_link(tar: tarfile.TarFile, name: str, target: str, kind: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    tar.addfile(info)


def make_tgz(path: Path, files: dict[str, bytes], links: dict[str, tuple[str, bytes]] | None = None) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            add_file(tar, name, data)
        for name, (target, kind) in (links or {}).items():
            add_link(tar, name, target, kind)
    return path


def asset_for(tarball: Path) -> NpmAsset:
    return NpmAsset("demo-pkg", "1.0.0", sri_sha512(tarball), ("dist/p.js", "dist/p.css"))


@pytest.fixture
def fake_npm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An ``npm`` on PATH whose ``pack`` copies $FAKE_TGZ to --pack-destination (the registry's stand-in)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    npm = bin_dir / "npm"
    npm.write_text('#!/bin/sh\n[ "$1" = pack ] && [ "$3" = --pack-destination ] && cp "$FAKE_TGZ" "$4/"\n')
    npm.chmod(npm.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin:/bin")
    return bin_dir


# --- integrity -----------------------------------------------------------------------------------


@unit
@pytest.mark.parametrize(
    ("data", "sri"),
    [
        (
            b"",
            "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==",
        ),
        (
            b"abc",
            "sha512-3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/BqDa6PCOj/uu9RU1EI2Q86A4qmslPpUyknw==",
        ),
    ],
)
def test_sri_sha512_matches_openssl(tmp_path: Path, data: bytes, sri: str) -> None:
    # values from `printf ... | openssl dgst -sha512 -binary | base64`
    path = tmp_path / "blob"
    path.write_bytes(data)
    assert sri_sha512(path) == sri


@unit
def test_a_tampered_tarball_is_refused_before_anything_is_unpacked_and_deleted(
    tmp_path: Path, fake_npm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pinned = asset_for(make_tgz(tmp_path / "orig.tgz", GOOD_FILES))
    tampered = make_tgz(tmp_path / "tampered.tgz", {**GOOD_FILES, "package/dist/p.js": b"alert(1)\n"})
    monkeypatch.setenv("FAKE_TGZ", str(tampered))
    cache = tmp_path / "cache"

    with pytest.raises(InfraError) as exc:
        ensure(pinned, cache)

    message = str(exc.value)
    assert "\n" not in message and "does not match the pinned integrity" in message
    assert pinned.integrity in message and sri_sha512(tampered) in message
    assert sorted(p.name for p in cache.iterdir()) == []  # no cache folder, the tarball deleted


@unit
def test_a_matching_tarball_is_unpacked_into_the_cache_with_its_licence(
    tmp_path: Path, fake_npm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tgz = make_tgz(tmp_path / "orig.tgz", GOOD_FILES)
    monkeypatch.setenv("FAKE_TGZ", str(tgz))
    cache = tmp_path / "cache"

    paths = ensure(asset_for(tgz), cache)

    root = cache / "demo-pkg-1.0.0"
    assert paths == {
        "dist/p.js": root / "dist/p.js",
        "dist/p.css": root / "dist/p.css",
        LICENSE: root / LICENSE,
    }
    assert [paths[k].read_bytes() for k in ("dist/p.js", "dist/p.css", LICENSE)] == [JS, CSS, LICENCE_TEXT]
    assert sorted(p.name for p in cache.iterdir()) == ["demo-pkg-1.0.0"]  # no temp folders left


@unit
def test_a_complete_cache_is_used_without_npm_and_a_missing_one_names_the_fix(
    tmp_path: Path, fake_npm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tgz = make_tgz(tmp_path / "orig.tgz", GOOD_FILES)
    monkeypatch.setenv("FAKE_TGZ", str(tgz))
    asset = asset_for(tgz)
    cached = ensure(asset, tmp_path / "cache")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no npm at all from here on

    assert ensure(asset, tmp_path / "cache") == cached
    with pytest.raises(InfraError) as exc:
        ensure(asset, tmp_path / "other")
    assert str(exc.value) == (
        f"demo-pkg 1.0.0 is not cached in {tmp_path / 'other'} and npm is not installed: "
        "install Node.js/npm or run deploy/bootstrap.sh setup"
    )


@unit
def test_a_cache_folder_with_a_file_deleted_is_fetched_again(
    tmp_path: Path, fake_npm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tgz = make_tgz(tmp_path / "orig.tgz", GOOD_FILES)
    monkeypatch.setenv("FAKE_TGZ", str(tgz))
    asset = asset_for(tgz)
    paths = ensure(asset, tmp_path / "cache")
    paths["dist/p.css"].unlink()

    assert ensure(asset, tmp_path / "cache")["dist/p.css"].read_bytes() == CSS
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["demo-pkg-1.0.0"]


@unit
def test_concurrent_callers_all_get_the_complete_folder(
    tmp_path: Path, fake_npm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tgz = make_tgz(tmp_path / "orig.tgz", GOOD_FILES)
    monkeypatch.setenv("FAKE_TGZ", str(tgz))
    asset, cache = asset_for(tgz), tmp_path / "cache"
    answers: list[dict[str, Path]] = []
    errors: list[BaseException] = []

    def call() -> None:
        try:
            answers.append(ensure(asset, cache))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert errors == [] and len(answers) == 6
    assert all(a == answers[0] and a["dist/p.js"].read_bytes() == JS for a in answers)
    assert sorted(p.name for p in cache.iterdir()) == ["demo-pkg-1.0.0"]


# --- safe extraction ------------------------------------------------------------------------------

UNSAFE = {
    "dotdot": ({"package/../evil.js": b"x"}, {}),
    "dotdot_inside": ({"package/dist/../../evil.js": b"x"}, {}),
    "absolute": ({"/tmp/evil.js": b"x"}, {}),
    "symlink_listed": ({}, {"package/dist/p.js": ("/etc/passwd", tarfile.SYMTYPE)}),
    "symlink_extra": ({}, {"package/dist/extra": ("../../x", tarfile.SYMTYPE)}),
    "hardlink": ({}, {"package/dist/h": ("package/LICENSE", tarfile.LNKTYPE)}),
}


@unit
@pytest.mark.parametrize("case", sorted(UNSAFE))
def test_extraction_refuses_a_tarball_with_any_unsafe_entry(tmp_path: Path, case: str) -> None:
    extra_files, links = UNSAFE[case]
    files = {k: v for k, v in GOOD_FILES.items() if k not in links}
    tgz = make_tgz(tmp_path / "bad.tgz", {**files, **extra_files}, links)
    dest = tmp_path / "out" / "dest"
    (tmp_path / "out").mkdir()

    with pytest.raises(InfraError, match="unsafe entry"):
        extract(tgz, asset_for(tgz), dest)

    assert list((tmp_path / "out").iterdir()) == []
    assert not (tmp_path / "evil.js").exists()


@unit
def test_extraction_refuses_a_tarball_without_a_listed_file_or_a_licence(tmp_path: Path) -> None:
    no_css = make_tgz(tmp_path / "a.tgz", {k: v for k, v in GOOD_FILES.items() if not k.endswith(".css")})
    no_licence = make_tgz(tmp_path / "b.tgz", {k: v for k, v in GOOD_FILES.items() if "LICENSE" not in k})
    with pytest.raises(InfraError, match="lacks dist/p.css"):
        extract(no_css, asset_for(no_css), tmp_path / "a")
    with pytest.raises(InfraError, match="lacks a LICENSE file"):
        extract(no_licence, asset_for(no_licence), tmp_path / "b")


@unit
@pytest.mark.parametrize(
    ("integrity", "files"),
    [
        ("sha1-abc", ("a.js",)),
        (PLAYER.integrity, ("../a.js",)),
        (PLAYER.integrity, ("/a.js",)),
        (PLAYER.integrity, ("",)),
        (PLAYER.integrity, ("dist\\..\\a.js",)),
    ],
)
def test_an_asset_with_a_weak_integrity_or_an_escaping_file_name_is_rejected(
    integrity: str, files: tuple[str, ...]
) -> None:
    with pytest.raises(ValueError):
        NpmAsset("p", "1.0.0", integrity, files)


# --- the real registry ----------------------------------------------------------------------------


@pytest.mark.slow
def test_the_pinned_player_is_fetched_with_npm_and_defines_the_global(tmp_path: Path) -> None:
    require(shutil.which("npm") is not None, "npm (Node.js)")
    paths = ensure(PLAYER, tmp_path / "vendor")

    assert set(paths) == {PLAYER_JS, PLAYER_CSS, LICENSE}
    assert "var AsciinemaPlayer=" in paths[PLAYER_JS].read_text()[:400]
    assert ".ap-player" in paths[PLAYER_CSS].read_text()
    assert "Apache License" in paths[LICENSE].read_text()
    assert ensure(PLAYER, tmp_path / "vendor") == paths  # cached: the same files, no second fetch
