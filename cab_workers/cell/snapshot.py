"""Work-dir snapshots: what the agent saw before, and what changed after.

Before the run the work dir becomes a git repository with one commit (agents such as aider expect a
repo), and a manifest ``{path: sha256}`` is taken on the host and kept outside the work dir, so an
agent rewriting git history cannot hide a change. ``diff`` compares manifests; the top-level
``.git`` is bookkeeping and ignored, a *new nested* ``.git`` is reported.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import replace
from pathlib import Path

from cab_core.errors import InfraError
from cab_workers.scoring.diff import WorkdirDiff, diff_snapshots, path_matches

Manifest = dict[str, str]

_GIT_ENV = {
    "GIT_AUTHOR_NAME": "cab",
    "GIT_AUTHOR_EMAIL": "cab@localhost",
    "GIT_COMMITTER_NAME": "cab",
    "GIT_COMMITTER_EMAIL": "cab@localhost",
    "GIT_CONFIG_NOSYSTEM": "1",
    "HOME": "/nonexistent",
}


def _file_digest(path: Path) -> str:
    if path.is_symlink():
        return "link:" + os.readlink(path)
    h = hashlib.sha256()
    with path.open("rb") as fp:
        for block in iter(lambda: fp.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def manifest(root: Path) -> tuple[Manifest, list[str]]:
    """Hash every file under ``root`` except the top-level ``.git``; also list nested ``.git`` dirs."""
    files: Manifest = {}
    git_dirs: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = Path(dirpath).relative_to(root)
        if ".git" in dirnames:
            dirnames.remove(".git")
            if rel_dir != Path("."):
                git_dirs.append((rel_dir / ".git").as_posix())
        for name in filenames:
            p = Path(dirpath) / name
            rel = p.relative_to(root).as_posix()
            if rel == ".git":  # a gitfile at the top (worktree), bookkeeping as well
                continue
            try:
                files[rel] = _file_digest(p)
            except OSError:
                files[rel] = "unreadable"
        for name in list(dirnames):
            p = Path(dirpath) / name
            if p.is_symlink():  # do not follow links out of the work dir
                dirnames.remove(name)
                files[p.relative_to(root).as_posix()] = _file_digest(p)
    return files, sorted(git_dirs)


def diff(before: Manifest, before_git: list[str], after: Manifest, after_git: list[str]) -> WorkdirDiff:
    """Compare two manifests; nested ``.git`` dirs are compared as dirs, not file by file."""
    files = diff_snapshots(before, after)
    return replace(files, new_git_dirs=tuple(sorted(set(after_git) - set(before_git))))


def without_ignored(change: WorkdirDiff, globs: list[str]) -> tuple[WorkdirDiff, list[str]]:
    """Drop build output (``TaskSpec.ignore_changes``) from a diff; return what was dropped."""
    ignored = [p for p in change.changed if path_matches(p, globs)]
    if not ignored:
        return change, []
    keep = set(change.changed) - set(ignored)
    return replace(
        change,
        added=tuple(p for p in change.added if p in keep),
        removed=tuple(p for p in change.removed if p in keep),
        modified=tuple(p for p in change.modified if p in keep),
    ), ignored


def git_snapshot(root: Path) -> None:
    """Make ``root`` a git repo with one commit of its current contents."""
    env = {**os.environ, **_GIT_ENV}
    cmds = [
        ["git", "init", "-q", "-b", "main"],
        ["git", "add", "-A"],
        ["git", "commit", "-q", "--no-verify", "--allow-empty", "-m", "cab: task snapshot"],
    ]
    for cmd in cmds:
        done = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise InfraError(f"git snapshot failed at `{' '.join(cmd)}`: {done.stderr.strip()[:200]}")


def read_texts(root: Path, paths: list[str], *, limit_bytes: int = 256 * 1024) -> dict[str, str]:
    """Contents of the given work-dir files as text (binary and huge files skipped)."""
    out: dict[str, str] = {}
    for rel in paths:
        p = root / rel
        try:
            if p.is_file() and not p.is_symlink() and p.stat().st_size <= limit_bytes:
                data = p.read_bytes()
                if b"\0" not in data:
                    out[rel] = data.decode("utf-8", errors="replace")
        except OSError:
            continue
    return out
