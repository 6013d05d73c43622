"""The agent's diff as text: a unified diff of what it changed, built from file contents (pure, no I/O).

A results page shows what the agent did besides how it scored; the worker reads both sides of every
changed path (``cab_workers.cell.agent_diff``: the task's original files, never the agent's ``.git``)
and this module writes them as one unified diff. The content is the agent's, so nothing in it may
forge the diff's own lines or blow up its size:

- a binary file (a NUL byte) is one line ``Binary file X differs``; a file over the per-file limit,
  or one that could not be read (a FIFO, a device), is one line saying so;
- a symbolic link is shown as its target (``symlink to "T"``), never followed;
- bytes that are not UTF-8 are replaced (U+FFFD); paths with control, quote or non-character code
  points are written quoted with escapes, so a file name cannot start a line of its own;
- the whole diff is capped: past ``max_bytes`` it is cut at a line and ends with a marker line, and
  ``original_bytes`` tells how long it would have been.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .line_diff import Budget, unified

PER_FILE_LIMIT_BYTES = 256 * 1024
"""Files larger than this (on either side) are named, not diffed."""

TOTAL_LIMIT_BYTES = 1024 * 1024
"""The diff kept for an attempt is at most this long (plus its truncation marker)."""

CONTEXT_LINES = 3
"""Unchanged lines shown around each change, as ``diff -u``."""

COMPARE_BUDGET = 64_000_000
"""Line comparisons the line matcher may spend on one whole diff (``line_diff``): a few seconds at worst."""


NO_NEWLINE = "\n\\ No newline at end of file\n"
"""Ends a diff line whose file line had no end, as ``diff -u`` marks it."""


@dataclass(frozen=True)
class Absent:
    """The path does not exist on this side (added or removed)."""


@dataclass(frozen=True)
class Content:
    """A regular file's whole content."""

    data: bytes


@dataclass(frozen=True)
class Oversized:
    """A regular file over the per-file limit: not read."""

    size: int


@dataclass(frozen=True)
class Link:
    """A symbolic link: its target, as text."""

    target: str


@dataclass(frozen=True)
class Unreadable:
    """Something that is not shown: a FIFO, a device, a folder, or a read that failed."""

    why: str


Side = Absent | Content | Oversized | Link | Unreadable
"""One side of a changed path."""


@dataclass(frozen=True)
class FileChange:
    """A changed path (relative, POSIX) with what it was before the agent ran and after."""

    path: str
    before: Side
    after: Side


@dataclass(frozen=True)
class Patch:
    """The diff as kept: ``text`` (cut and marked when ``truncated``) and the full diff's size."""

    text: str
    original_bytes: int
    truncated: bool

    @property
    def body(self) -> bytes:
        """``text`` as UTF-8."""
        return self.text.encode("utf-8", errors="replace")


def quote(text: str) -> str:
    """``text`` as is when it is plain, else in double quotes with backslash escapes (as git quotes it)."""
    if not any(_special(ch) for ch in text):
        return text
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif _special(ch):
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _special(ch: str) -> bool:
    code = ord(ch)
    return code < 0x20 or 0x7F <= code < 0xA0 or 0xD800 <= code <= 0xDFFF or ch in '"\\\u2028\u2029\ufeff'


def _size(side: Side) -> str:
    if isinstance(side, Absent):
        return "absent"
    if isinstance(side, Oversized):
        return f"{side.size} bytes"
    if isinstance(side, Content):
        return f"{len(side.data)} bytes"
    return "not a file"


def _text(side: Side) -> str | None:
    """The side as the text the diff compares; None when it is absent."""
    if isinstance(side, Content):
        return side.data.decode("utf-8", errors="replace")
    if isinstance(side, Link):
        return f"symlink to {quote(side.target)}\n"
    return None


def _lines(text: str | None) -> list[str]:
    """Lines split at ``\\n`` only (a lone ``\\r`` or form feed stays inside its line), ends kept."""
    if not text:
        return []
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    return [*lines, parts[-1]] if parts[-1] else lines


def _header(prefix: str, path: str) -> str:
    """``a/path`` for the ``---``/``+++`` lines, quoted whole when the path needs quoting (as git)."""
    return prefix + path if quote(path) == path else quote(prefix + path)


def file_patch(
    change: FileChange, *, limit_bytes: int = PER_FILE_LIMIT_BYTES, budget: Budget | None = None
) -> str:
    """The diff of one changed path: a unified diff, or one line saying why there is none. ``budget``
    is shared across the files of one diff (a fresh ``COMPARE_BUDGET`` when None)."""
    path, before, after = quote(change.path), change.before, change.after
    sides = (before, after)
    for side in sides:
        if isinstance(side, Unreadable):
            return f"File {path} not shown: {quote(side.why)}\n"
    too_big = any(
        isinstance(s, Oversized) or (isinstance(s, Content) and len(s.data) > limit_bytes) for s in sides
    )
    if too_big:
        return (
            f"File {path} differs: over the {limit_bytes}-byte per-file limit "
            f"(before: {_size(before)}, after: {_size(after)})\n"
        )
    if isinstance(before, Absent) and isinstance(after, Absent):
        return f"File {path} not shown: absent on both sides\n"
    if any(isinstance(s, Content) and b"\0" in s.data for s in sides):
        return f"Binary file {path} differs\n"
    old, new = _text(before), _text(after)
    lines = unified(
        _lines(old),
        _lines(new),
        "/dev/null" if old is None else _header("a/", change.path),
        "/dev/null" if new is None else _header("b/", change.path),
        context=CONTEXT_LINES,
        budget=budget or Budget(COMPARE_BUDGET),
    )
    out = "".join(line if line.endswith("\n") else line + NO_NEWLINE for line in lines)
    if out:
        return out
    if old is None:
        return f"New empty file {path}\n"
    if new is None:
        return f"Deleted empty file {path}\n"
    return f"File {path} changed (no difference once decoded as UTF-8)\n"


def render_patch(
    changes: Iterable[FileChange],
    *,
    max_bytes: int = TOTAL_LIMIT_BYTES,
    limit_bytes: int = PER_FILE_LIMIT_BYTES,
) -> Patch:
    """The diff of every change, in the given order, kept up to ``max_bytes`` (cut at a line, then a
    marker line); every change is still diffed so ``original_bytes`` is the full diff's size.
    Memory stays about ``max_bytes`` plus one file's diff, whatever ``changes`` yields."""
    kept: list[str] = []
    kept_bytes = total = 0
    truncated = False
    budget = Budget(COMPARE_BUDGET)
    for change in changes:
        piece = file_patch(change, limit_bytes=limit_bytes, budget=budget)
        size = len(piece.encode("utf-8", errors="replace"))
        total += size
        if truncated:
            continue
        if kept_bytes + size <= max_bytes:
            kept.append(piece)
            kept_bytes += size
            continue
        truncated = True
        for line in _lines(piece):
            n = len(line.encode("utf-8", errors="replace"))
            if kept_bytes + n > max_bytes:
                break
            kept.append(line)
            kept_bytes += n
    if truncated:
        kept.append(f"[diff truncated: {kept_bytes} of {total} bytes shown]\n")
    return Patch(text="".join(kept), original_bytes=total, truncated=truncated)
