"""Files and links of a work dir as entries, read and written without following any link.

The agent owns every byte and every link in its work dir: a link may point at the host's files, so
cab reads entries with ``O_NOFOLLOW``, never descends into a linked folder, and when it writes a
tree it replaces a link or file standing where it needs a folder instead of writing through it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MAX_CONFIG_BYTES = 1 << 20
"""Harness files are read whole to compare their test-driving parts; a bigger one is unreadable."""


@dataclass(frozen=True)
class Entry:
    """One file or symlink of a tree: a file's bytes stay on disk (``source``) or in ``data``."""

    kind: str  # "file" | "link" | "other"
    source: Path | None = None
    data: bytes | None = None
    target: str = ""
    executable: bool = False

    @classmethod
    def of(cls, data: bytes) -> Entry:
        return cls("file", data=data)

    def read(self, limit: int = MAX_CONFIG_BYTES) -> bytes | None:
        """The file's bytes, or None when it is not a regular file or is over ``limit``."""
        if self.kind != "file":
            return None
        if self.data is not None:
            return self.data if len(self.data) <= limit else None
        assert self.source is not None
        fd = os.open(self.source, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as fp:
            data = fp.read(limit + 1)
        return data if len(data) <= limit else None

    def same_as(self, other: Entry | None) -> bool:
        if other is None or other.kind != self.kind:
            return False
        if self.kind == "link":
            return self.target == other.target
        if self.kind != "file":
            return False
        return _digest(self) == _digest(other)


def _chunks(entry: Entry) -> Iterator[bytes]:
    """A file entry's bytes in blocks, read without following a link."""
    if entry.data is not None:
        yield entry.data
        return
    assert entry.source is not None
    fd = os.open(entry.source, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as fp:
        yield from iter(lambda: fp.read(1 << 20), b"")


def _digest(entry: Entry) -> str:
    h = hashlib.sha256()
    for block in _chunks(entry):
        h.update(block)
    return h.hexdigest()


def read_tree(root: Path, *, skip_top_git: bool = False) -> dict[str, Entry]:
    """Every file and symlink under ``root`` (links are never followed)."""
    out: dict[str, Entry] = {}
    if not root.is_dir():
        return out
    stack = [(root, "")]
    while stack:
        folder, prefix = stack.pop()
        with os.scandir(folder) as it:
            for d in it:
                rel = f"{prefix}{d.name}"
                if skip_top_git and rel == ".git":
                    continue
                st = os.lstat(d.path)
                if stat.S_ISLNK(st.st_mode):
                    out[rel] = Entry("link", target=os.readlink(d.path))
                elif stat.S_ISDIR(st.st_mode):
                    stack.append((Path(d.path), rel + "/"))
                elif stat.S_ISREG(st.st_mode):
                    out[rel] = Entry("file", source=Path(d.path), executable=bool(st.st_mode & 0o111))
                else:
                    out[rel] = Entry("other")
    return out


def _make_parents(root: Path, rel: str) -> None:
    """Create the folders of ``rel`` under ``root``, replacing any link or file in the way."""
    current = root
    for part in PurePosixPath(rel).parts[:-1]:
        current = current / part
        try:
            st = os.lstat(current)
        except FileNotFoundError:
            current.mkdir()
            continue
        if not stat.S_ISDIR(st.st_mode):  # a link (to anywhere) or a file: never write through it
            current.unlink()
            current.mkdir()


def place(root: Path, rel: str, entry: Entry) -> None:
    """Write one entry at ``root/rel`` without following links on the way or at the end."""
    _make_parents(root, rel)
    target = root / rel
    if os.path.lexists(target):
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        else:
            target.unlink()
    if entry.kind == "link":
        os.symlink(entry.target, target)
        return
    fd = os.open(
        target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o755 if entry.executable else 0o644
    )
    with os.fdopen(fd, "wb") as out:
        for block in _chunks(entry):
            out.write(block)


def write_tree(root: Path, tree: Mapping[str, Entry]) -> None:
    """Materialise a planned tree under a fresh ``root``."""
    root.mkdir(parents=True, exist_ok=False)
    for rel in sorted(tree):
        place(root, rel, tree[rel])
