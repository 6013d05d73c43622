"""What the scripted model changes, built from a task folder: a ``Plan``, rendered as the shell
command it asks the agent to run, or as a whole-file listing for TUIs that edit from text (aider).

Every command runs from the agent's work dir (``/work`` in a container), starts with ``set -e`` and
uses only POSIX tools present in the base image (``mkdir``, ``printf``, ``base64``, ``rm``, ``chmod``,
``ln``).
File contents travel base64-encoded so any byte survives shell quoting. ``apply_plan`` applies a
plan to a folder on the host the same way, without a shell (``cab tasks validate`` uses it for the
exploit ledger).
"""

from __future__ import annotations

import base64
import os
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import structlog

from cab_endpoint.task_index import TaskEntry

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


def _link(rel: str, target: str) -> list[str]:
    lines = [f"rm -rf -- {shlex.quote(rel)}"]
    parent = PurePosixPath(rel).parent.as_posix()
    if parent != ".":
        lines.append(f"mkdir -p {shlex.quote(parent)}")
    lines.append(f"ln -s -- {shlex.quote(target)} {shlex.quote(rel)}")
    return lines


@dataclass(frozen=True)
class Plan:
    """What a scripted model changes in the work dir, in order: deletions, symlinks, writes, appended lines.

    Symlinks come after deletions and before writes, so a plan can swap a directory (or a file) for
    a link and then write the link's target, or anything else, through ordinary paths; a write never
    removes a link made before it. Rendered as one shell command (for a TUI's shell tool) or as
    aider's whole-file listing.
    """

    task_id: str
    deletes: tuple[str, ...] = ()
    writes: tuple[tuple[str, bytes, bool], ...] = ()
    """(path, content, executable)."""
    appends: tuple[tuple[str, str], ...] = ()
    """(path of an existing file, a line appended to it)."""
    symlinks: tuple[tuple[str, str], ...] = ()
    """(path, target): whatever is at ``path`` is removed and replaced by a link whose content is
    ``target`` (any string: relative, absolute, dangling)."""

    def command(self) -> str:
        lines = [f"rm -rf -- {shlex.quote(p)}" for p in self.deletes]
        for rel, target in self.symlinks:
            lines += _link(rel, target)
        for rel, data, executable in self.writes:
            lines += _write_file(rel, data, executable)
        for rel, line in self.appends:
            lines.append(f"printf '\\n%s\\n' {shlex.quote(line)} >> {shlex.quote(rel)}")
        command = "\n".join(["set -e", *lines])
        if len(command) > ARG_SOFT_LIMIT:
            log.warning("endpoint_command_too_long", task_id=self.task_id, chars=len(command))
        return command

    def listing(self, workdir: Path | None) -> str:
        """Every changed file in full, as ``path`` then a fenced block (aider's *whole* edit format).

        Appends are applied to the file as it is in ``workdir``; deletions and symlinks cannot be
        written this way and are left out (logged). A file that is not UTF-8 text cannot be listed either.
        """
        if self.deletes:
            log.warning("endpoint_listing_cannot_delete", task_id=self.task_id, paths=list(self.deletes))
        if self.symlinks:
            log.warning(
                "endpoint_listing_cannot_link", task_id=self.task_id, paths=[p for p, _ in self.symlinks]
            )
        files = {rel: data.decode("utf-8", errors="replace") for rel, data, _ in self.writes}
        for rel, line in self.appends:
            base = files.get(rel)
            if base is None and workdir is not None and (workdir / rel).is_file():
                base = (workdir / rel).read_text(errors="replace")
            files[rel] = (base or "") + f"\n{line}\n"
        blocks = []
        for rel, text in files.items():
            body = text if text.endswith("\n") else text + "\n"  # aider ends every file with one
            blocks.append(f"{rel}\n```\n{body}```")
        return "\n\n".join(blocks) + "\n"


def _inside(root: Path, rel: str, *, follow_last: bool) -> Path:
    """``root / rel`` with every symlink before the last part resolved; ValueError when that leaves
    ``root`` (``root`` is already resolved). ``follow_last`` resolves the last part too."""
    path = root / _safe_rel(rel)
    try:
        parent = path.parent.resolve()
        path = parent / path.name
        if follow_last and path.is_symlink():
            path = path.resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise ValueError(f"{rel!r}: {exc}") from exc
    if not path.is_relative_to(root) or path == root:
        raise ValueError(f"{rel!r} leads out of the work dir through a symlink")
    return path


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def apply_plan(plan: Plan, root: Path) -> None:
    """Apply ``plan`` to the folder ``root`` the way its shell command would, without a shell.

    Same order as ``Plan.command``: deletions, symlinks, writes, appends. Paths must be relative
    without ``..`` (ValueError otherwise), and no path is followed out of ``root`` through a symlink
    (ValueError): a link's *target* may point anywhere, it is only the link's content.
    """
    real = Path(root).resolve(strict=True)
    for rel in plan.deletes:
        _remove(_inside(real, rel, follow_last=False))
    for rel, target in plan.symlinks:
        path = _inside(real, rel, follow_last=False)
        _remove(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.symlink_to(target)
    for rel, data, executable in plan.writes:
        path = _inside(real, rel, follow_last=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if executable:
            path.chmod(path.stat().st_mode | 0o111)
    for rel, line in plan.appends:
        path = _inside(real, rel, follow_last=True)
        with path.open("ab") as f:
            f.write(f"\n{line}\n".encode())


def solution_plan(task: TaskEntry) -> Plan:
    """Delete the ``.cab-delete`` paths, then write every solution file."""
    writes = []
    for rel in task.solution_files():
        src = task.paths.solution / rel
        writes.append((_safe_rel(rel), src.read_bytes(), os.access(src, os.X_OK)))
    return Plan(task.task_id, tuple(_safe_rel(p) for p in task.deleted_paths()), tuple(writes))


def solution_command(task: TaskEntry) -> str:
    """A command that turns a pristine copy of the task's work dir into its reference solution."""
    return solution_plan(task).command()


def _victim(task: TaskEntry) -> str | None:
    """An existing work-dir file the solution does not touch: a README first, else the first text file."""
    untouchable = set(task.solution_files()) | set(task.deleted_paths()) | set(task.protected_paths)
    candidates = [f for f in task.workdir_files() if f not in untouchable and not f.startswith(".")]
    readmes = [f for f in candidates if PurePosixPath(f).name.lower().startswith("readme")]
    texts = [f for f in candidates if PurePosixPath(f).suffix in _COMMENT_PREFIX or f.endswith(".md")]
    found = readmes or texts
    return found[0] if found else None


def sloppy_plan(task: TaskEntry) -> Plan:
    """The solution plus collateral: a scratch file and a comment appended to an untouched file."""
    plan = solution_plan(task)
    scratch = (SCRATCH_PATH, b"scratch notes: tried a few things, kept the last one\n", False)
    victim = _victim(task)
    appends: tuple[tuple[str, str], ...] = ()
    if victim is not None:
        suffix = PurePosixPath(victim).suffix
        comment = (
            "<!-- edited while working on the task -->"
            if suffix == ".md"
            else f"{_COMMENT_PREFIX.get(suffix, '#')} edited while working on the task"
        )
        appends = ((victim, comment),)
    return Plan(plan.task_id, plan.deletes, (*plan.writes, scratch), appends)


def sloppy_command(task: TaskEntry) -> str:
    return sloppy_plan(task).command()


def refusal_plan() -> Plan:
    """Write ``REFUSAL.md`` with a reasoned refusal."""
    return Plan("refuser", writes=(("REFUSAL.md", REFUSAL_TEXT.encode(), False),))


def refusal_command() -> str:
    return refusal_plan().command()
