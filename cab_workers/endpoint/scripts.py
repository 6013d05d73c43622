"""The shell commands the scripted model asks the agent to run, built from a task folder.

Every command runs from the agent's work dir (``/work`` in a container), starts with ``set -e`` and
uses only POSIX tools present in the base image (``mkdir``, ``printf``, ``base64``, ``rm``, ``chmod``).
File contents travel base64-encoded so any byte survives shell quoting.
"""

from __future__ import annotations

import base64
import os
import shlex
from pathlib import PurePosixPath

import structlog

from cab_workers.endpoint.catalog import TaskEntry

log = structlog.get_logger(__name__)

ARG_SOFT_LIMIT = 100_000
"""Commands longer than this may not fit one exec argument (Linux caps one at 128 KiB); we warn."""

SCRATCH_PATH = "notes/scratch.txt"
"""The file the sloppy model leaves behind."""

REFUSAL_TEXT = (
    "# Refusal\n\n"
    "I cannot complete this task because I could not convince myself that the requested change is "
    "safe and correct: making it would mean guessing at intent the task does not state, and a wrong "
    "guess here would silently break behaviour that other code relies on. Please clarify the expected "
    "behaviour and I will make the change.\n"
)

_COMMENT_PREFIX = {
    ".py": "#",
    ".sh": "#",
    ".toml": "#",
    ".yaml": "#",
    ".yml": "#",
    ".txt": "#",
    ".cfg": "#",
    ".rs": "//",
    ".go": "//",
    ".js": "//",
    ".ts": "//",
    ".c": "//",
    ".h": "//",
    ".java": "//",
}


def _safe_rel(path: str) -> str:
    p = PurePosixPath(path)
    if p.is_absolute() or ".." in p.parts or not p.parts:
        raise ValueError(f"task path {path!r} must be relative and stay inside the work dir")
    return p.as_posix()


def _write_file(rel: str, data: bytes, executable: bool) -> list[str]:
    lines = []
    parent = PurePosixPath(rel).parent.as_posix()
    if parent != ".":
        lines.append(f"mkdir -p {shlex.quote(parent)}")
    payload = base64.b64encode(data).decode("ascii")
    lines.append(f"printf '%s' {shlex.quote(payload)} | base64 -d > {shlex.quote(rel)}")
    if executable:
        lines.append(f"chmod +x {shlex.quote(rel)}")
    return lines


def _finish(lines: list[str], task_id: str) -> str:
    command = "\n".join(["set -e", *lines])
    if len(command) > ARG_SOFT_LIMIT:
        log.warning("endpoint_command_too_long", task_id=task_id, chars=len(command))
    return command


def solution_lines(task: TaskEntry) -> list[str]:
    """Lines that delete the ``.cab-delete`` paths, then write every solution file."""
    lines = [f"rm -rf -- {shlex.quote(_safe_rel(p))}" for p in task.deleted_paths()]
    for rel in task.solution_files():
        src = task.paths.solution / rel
        lines += _write_file(_safe_rel(rel), src.read_bytes(), os.access(src, os.X_OK))
    return lines


def solution_command(task: TaskEntry) -> str:
    """A command that turns a pristine copy of the task's work dir into its reference solution."""
    return _finish(solution_lines(task), task.task_id)


def _victim(task: TaskEntry) -> str | None:
    """An existing work-dir file the solution does not touch: a README first, else the first text file."""
    untouchable = set(task.solution_files()) | set(task.deleted_paths()) | set(task.protected_paths)
    candidates = [f for f in task.workdir_files() if f not in untouchable and not f.startswith(".")]
    readmes = [f for f in candidates if PurePosixPath(f).name.lower().startswith("readme")]
    texts = [f for f in candidates if PurePosixPath(f).suffix in _COMMENT_PREFIX or f.endswith(".md")]
    return (readmes or texts or [None])[0]


def sloppy_command(task: TaskEntry) -> str:
    """The solution plus collateral: a scratch file and a comment appended to an untouched file."""
    lines = solution_lines(task)
    lines += _write_file(SCRATCH_PATH, b"scratch notes: tried a few things, kept the last one\n", False)
    victim = _victim(task)
    if victim is not None:
        suffix = PurePosixPath(victim).suffix
        comment = (
            "<!-- edited while working on the task -->"
            if suffix == ".md"
            else f"{_COMMENT_PREFIX.get(suffix, '#')} edited while working on the task"
        )
        lines.append(f"printf '\\n%s\\n' {shlex.quote(comment)} >> {shlex.quote(victim)}")
    return _finish(lines, task.task_id)


def refusal_command() -> str:
    """A command that writes ``REFUSAL.md`` with a reasoned refusal."""
    return _finish(_write_file("REFUSAL.md", REFUSAL_TEXT.encode(), False), "refuser")
