"""What an attempt leaves for the results pages besides its scores: the agent's diff and its cast.

A site built on another machine cannot read this worker's files, so both travel in the result
(``CellResult.artifacts``) to the store. Both are read here, off the host's disk, as hostile data:

- the diff compares the task's original work dir (the cab-controlled task folder the work dir was
  copied from, never the agent's ``.git``) with the work dir after the agent ran, over the changed
  paths the blast radius counts; every path is opened component by component with ``O_NOFOLLOW``
  from the root, so no symbolic link is followed out of either tree, a FIFO does not block, and no
  file over the per-file limit is read (``cab_workers.scoring.patch`` writes the text, capped);
- the cast is the asciicast v2 file the agent phase wrote; past its limit it keeps the header and
  whole event lines only, so it still plays.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from cab_core.schema import Artifact, ArtifactName
from cab_workers.scoring.diff import WorkdirDiff
from cab_workers.scoring.patch import (
    PER_FILE_LIMIT_BYTES,
    Absent,
    Content,
    FileChange,
    Link,
    Oversized,
    Side,
    Unreadable,
    render_patch,
)

CAST_LIMIT_BYTES = 4 * 1024 * 1024
"""The recording kept for an attempt is at most this long (the writer stops near it as well)."""

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def read_side(root: Path, rel: str, *, limit_bytes: int = PER_FILE_LIMIT_BYTES) -> Side:
    """What ``root/rel`` is, without following a link anywhere on the way: absent, a link's target,
    a regular file's content (at most ``limit_bytes`` read), or why it is not shown."""
    parts = rel.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return Unreadable("not a relative path inside the work dir")
    try:
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        return Absent()
    try:
        for part in parts[:-1]:
            mode = os.stat(part, dir_fd=fd, follow_symlinks=False).st_mode
            if stat.S_ISLNK(mode):
                return Unreadable("under a symbolic link")
            if not stat.S_ISDIR(mode):
                return Absent()
            inner = os.open(part, _DIR_FLAGS, dir_fd=fd)  # O_NOFOLLOW: swapped for a link since, fails
            os.close(fd)
            fd = inner
        return _leaf(fd, parts[-1], limit_bytes)
    except FileNotFoundError:
        return Absent()
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.ENOTDIR):
            return Unreadable("under a symbolic link")
        return Unreadable(e.strerror or type(e).__name__)
    finally:
        os.close(fd)


def _leaf(dir_fd: int, name: str, limit_bytes: int) -> Side:
    st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    if stat.S_ISLNK(st.st_mode):
        target = os.readlink(name, dir_fd=dir_fd)
        return Link(os.fsencode(target).decode("utf-8", errors="replace"))
    if not stat.S_ISREG(st.st_mode):
        return Unreadable("not a regular file")
    if st.st_size > limit_bytes:
        return Oversized(st.st_size)
    fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
    with os.fdopen(fd, "rb") as fp:
        now = os.fstat(fp.fileno())
        if not stat.S_ISREG(now.st_mode):  # swapped since the stat above
            return Unreadable("not a regular file")
        data = fp.read(limit_bytes + 1)
    if len(data) > limit_bytes:
        return Oversized(max(now.st_size, len(data)))
    return Content(data)


def _changes(original: Path, work: Path, change: WorkdirDiff) -> Iterator[FileChange]:
    """Each changed path with both of its sides, read one path at a time."""
    added, removed = set(change.added), set(change.removed)
    for path in change.changed:
        before = Absent() if path in added else read_side(original, path)
        after = Absent() if path in removed else read_side(work, path)
        yield FileChange(path, before, after)


def diff_artifact(original: Path, work: Path, change: WorkdirDiff) -> Artifact:
    """The agent's diff: ``original`` (the task's work dir) against ``work`` over ``change``'s paths."""
    patch = render_patch(_changes(original, work, change))
    return Artifact.of(
        ArtifactName.diff, patch.body, original_bytes=patch.original_bytes, truncated=patch.truncated
    )


def cap_cast(head: bytes, size: int, *, max_bytes: int = CAST_LIMIT_BYTES) -> tuple[bytes, bool] | None:
    """The kept part of a recording of ``size`` bytes whose first bytes are ``head`` (at least
    ``max_bytes + 1`` of them when it is longer): the header and the whole lines that fit, and whether
    anything was cut. None when not even the header line fits."""
    window = head[:max_bytes]
    end = window.rfind(b"\n")
    if end < 0:
        return None
    kept = window[: end + 1]
    return kept, len(kept) < size


def cast_artifact(path: Path, *, max_bytes: int = CAST_LIMIT_BYTES) -> Artifact | None:
    """The terminal recording at ``path``, capped; None when there is none (or not even a header)."""
    try:
        fd = os.open(path, _FILE_FLAGS)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as fp:
        st = os.fstat(fp.fileno())
        if not stat.S_ISREG(st.st_mode):
            return None
        head = fp.read(max_bytes + 1)
    size = max(st.st_size, len(head))
    kept = cap_cast(head, size, max_bytes=max_bytes)
    if kept is None:
        return None
    body, truncated = kept
    return Artifact.of(ArtifactName.terminal, body, original_bytes=size, truncated=truncated)
