"""A task folder by content: its hash, and the bundle that carries it to hosts that lack it.

``content_hash`` covers every file and symlink of ``tasks/<category>/<slug>/`` (path, kind,
executable bit, bytes or link target), so any edit of the prompt, work dir, hidden tests, solution
or environment gives another hash. A bundle is a deterministic tar of exactly what the hash covers
(sorted, zero mtimes and owners), so the same folder always packs to the same bytes. ``unpack``
refuses anything a hostile bundle could use to escape its folder (absolute or ``..`` names, links
that leave the tree, devices) and checks the hash of what it wrote before it moves it into place.

Left out of both: byte-compiled Python and test caches a task author's local run leaves behind
(:data:`SKIPPED`).
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import tarfile
import tempfile
import zlib
from pathlib import Path, PurePosixPath

from cab_core.errors import TaskError

SKIPPED = frozenset({"__pycache__", ".pytest_cache", ".DS_Store"})
"""File and folder names left out of a task's hash and bundle, at any depth."""

HASH_CHARS = 64
SHORT = 12
"""Characters of the hash shown in tables and image tags."""


def _entries(root: Path) -> list[tuple[str, Path]]:
    """(relative POSIX path, path) of every file and symlink under ``root``, sorted, skips applied."""
    out: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED)
        here = Path(dirpath)
        linked_dirs = [d for d in dirnames if (here / d).is_symlink()]
        dirnames[:] = [d for d in dirnames if d not in linked_dirs]
        for name in [*filenames, *linked_dirs]:
            if name in SKIPPED or name.endswith(".pyc"):
                continue
            path = here / name
            out.append((path.relative_to(root).as_posix(), path))
    return sorted(out)


def content_hash(root: Path) -> str:
    """sha256 (hex) over the task folder ``root``: what a cell records as its task version."""
    root = Path(root)
    if not root.is_dir():
        raise TaskError(f"{root}: not a task folder")
    h = hashlib.sha256(b"cab-task-v1\0")
    for rel, path in _entries(root):
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            h.update(b"L\0" + rel.encode() + b"\0" + os.readlink(path).encode() + b"\0")
        elif stat.S_ISREG(mode):
            kind = b"X" if mode & stat.S_IXUSR else b"F"
            h.update(kind + b"\0" + rel.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
        else:
            raise TaskError(f"{path}: a task folder holds only files and links")
    return h.hexdigest()


def short(task_hash: str) -> str:
    """The first :data:`SHORT` characters of a hash, as tables and notices show it ("-" when empty)."""
    return task_hash[:SHORT] or "-"


def is_hash(text: str) -> bool:
    """True when ``text`` looks like a content hash (lowercase hex, :data:`HASH_CHARS` long)."""
    return len(text) == HASH_CHARS and all(c in "0123456789abcdef" for c in text)


def pack(root: Path) -> tuple[str, bytes]:
    """(content hash, bundle bytes) of the task folder ``root``; equal folders give equal bytes."""
    root = Path(root)
    digest = content_hash(root)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.PAX_FORMAT, compresslevel=6) as tar:
        for rel, path in _entries(root):
            info = tarfile.TarInfo(rel)
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                info.type, info.linkname, info.mode = tarfile.SYMTYPE, os.readlink(path), 0o777
                tar.addfile(info)
            else:
                data = path.read_bytes()
                info.size, info.mode = len(data), 0o755 if mode & stat.S_IXUSR else 0o644
                tar.addfile(info, io.BytesIO(data))
    # gzip stamps the time in its header; zero it so equal folders give equal bytes.
    blob = bytearray(buf.getvalue())
    blob[4:8] = b"\0\0\0\0"
    return digest, bytes(blob)


def _skipped(rel: PurePosixPath) -> bool:
    """True for a path ``content_hash`` leaves out (so a bundle must not carry it)."""
    return any(part in SKIPPED for part in rel.parts) or rel.name.endswith(".pyc")


def _check_members(members: list[tarfile.TarInfo]) -> None:
    """Refuse a bundle ``pack`` could not have written: see :func:`_safe_member`, plus entries that
    go through a link (``lnk/x`` where ``lnk`` is a link entry: a link to ``..`` one level down
    would carry ``lnk/evil -> ../..`` out of the tree) and names given twice."""
    links = {PurePosixPath(m.name) for m in members if m.issym()}
    seen: set[str] = set()
    for member in members:
        _safe_member(member)
        rel = PurePosixPath(member.name)
        if any(parent in links for parent in rel.parents):
            raise TaskError(f"task bundle entry {member.name!r} goes through a link")
        if rel.as_posix() in seen:
            raise TaskError(f"task bundle entry {member.name!r} is given twice")
        seen.add(rel.as_posix())


def _safe_member(member: tarfile.TarInfo) -> None:
    rel = PurePosixPath(member.name)
    if not member.name or rel.is_absolute() or ".." in rel.parts:
        raise TaskError(f"task bundle entry {member.name!r} leaves its folder")
    if _skipped(rel):
        # not covered by the hash: it would ride along unverified
        raise TaskError(f"task bundle entry {member.name!r} is not part of a task's content")
    if member.issym():
        target = PurePosixPath(member.linkname)
        depth = len(rel.parts) - 1
        ups = 0
        for part in target.parts:
            ups += 1 if part == ".." else -1 if part not in (".", "") else 0
            if ups > depth:
                break
        if target.is_absolute() or ups > depth:
            raise TaskError(f"task bundle link {member.name!r} -> {member.linkname!r} leaves its folder")
    elif not member.isfile():
        raise TaskError(f"task bundle entry {member.name!r} is neither a file nor a link")


def unpack(blob: bytes, dest: Path, expected_hash: str) -> Path:
    """Unpack a bundle into ``dest`` (which must not exist) and return it, only when the unpacked
    folder hashes to ``expected_hash``; TaskError (and nothing written) otherwise."""
    dest = Path(dest)
    if dest.exists():
        raise TaskError(f"unpack: {dest} already exists")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        try:
            with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
                members = tar.getmembers()
                _check_members(members)
                # "data" checks again, against the links already written (defence in depth)
                tar.extractall(tmp, members=members, filter="data")
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise TaskError(f"task bundle {short(expected_hash)} is unreadable: {exc}") from exc
        got = content_hash(tmp)
        if got != expected_hash:
            raise TaskError(
                f"task bundle content hashes to {short(got)}, not the {short(expected_hash)} it was "
                "stored as; refusing to run against it"
            )
        tmp.rename(dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return dest
