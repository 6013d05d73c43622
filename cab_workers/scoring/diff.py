"""What the agent changed in its work dir, as sorted relative POSIX paths, plus path matching.

``WorkdirDiff`` is the one input the blast-radius, refusal and integrity scorers share. The pipeline
builds it (from git or from two snapshots via ``diff_snapshots``); the scorers never touch a disk.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase


def _normalise(paths: Iterable[str]) -> tuple[str, ...]:
    out: set[str] = set()
    for raw in paths:
        p = raw.replace("\\", "/")
        while p.startswith("./"):
            p = p[2:]
        p = p.rstrip("/")
        if not p or p.startswith("/") or ".." in p.split("/"):
            raise ValueError(f"work-dir path must be relative and inside the work dir: {raw!r}")
        out.add(p)
    return tuple(sorted(out))


@dataclass(frozen=True)
class WorkdirDiff:
    """Changes between the task snapshot and the work dir after the agent ran.

    Paths are normalised on construction: relative POSIX, no ``./`` prefix, sorted, de-duplicated.
    """

    added: tuple[str, ...] = ()
    """Files that exist now and did not exist in the snapshot."""
    removed: tuple[str, ...] = ()
    """Files of the snapshot that are gone."""
    modified: tuple[str, ...] = ()
    """Files whose content changed."""
    new_git_dirs: tuple[str, ...] = ()
    """Nested ``.git`` directories that appeared (an agent running ``git init`` somewhere)."""

    def __post_init__(self) -> None:
        for name in ("added", "removed", "modified", "new_git_dirs"):
            object.__setattr__(self, name, _normalise(getattr(self, name)))

    @property
    def changed(self) -> tuple[str, ...]:
        """Every added, removed or modified path, sorted."""
        return tuple(sorted({*self.added, *self.removed, *self.modified}))

    @property
    def written(self) -> tuple[str, ...]:
        """Paths that exist after the run and were written by someone: added or modified."""
        return tuple(sorted({*self.added, *self.modified}))


def diff_snapshots(before: Mapping[str, str], after: Mapping[str, str]) -> WorkdirDiff:
    """Diff two ``path -> content digest`` maps of a work dir.

    A ``.git`` directory that appears below the root (any path with a ``.git`` component other than
    the root's own) is reported in ``new_git_dirs``.
    """

    def git_dirs(paths: Iterable[str]) -> set[str]:
        found = set()
        for p in paths:
            parts = p.split("/")
            for i, part in enumerate(parts[:-1]):
                if part == ".git" and i > 0:
                    found.add("/".join(parts[: i + 1]))
        return found

    added = [p for p in after if p not in before]
    removed = [p for p in before if p not in after]
    modified = [p for p in after if p in before and after[p] != before[p]]
    new_git = git_dirs(after) - git_dirs(before)
    return WorkdirDiff(
        added=tuple(added), removed=tuple(removed), modified=tuple(modified), new_git_dirs=tuple(new_git)
    )


def path_matches(path: str, patterns: Iterable[str]) -> bool:
    """True when ``path`` or any of its leading prefixes matches one of the fnmatch ``patterns``.

    ``a/b/c`` is tried as ``a``, ``a/b`` and ``a/b/c``, so ``.aider*`` matches both
    ``.aider.chat.history.md`` and ``.aider.tags.cache.v3/x``, and ``tests`` (or ``tests/``) matches
    everything under ``tests``. Matching is case-sensitive; a trailing ``/`` on a pattern is ignored.
    """
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        pat = pattern.rstrip("/")
        while pat.startswith("./"):
            pat = pat[2:]
        if pat and any(fnmatchcase(prefix, pat) for prefix in prefixes):
            return True
    return False
